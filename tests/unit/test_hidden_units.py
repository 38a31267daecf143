"""``parse_hidden_units`` (the hidden layers as the Train page and the CLI read them) and
the CLI's validation share."""

from __future__ import annotations

import pytest

from embedding_core.model.config import TrainConfig, parse_hidden_units


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("256,128,64", (256, 128, 64)),
        (" 256, 128, 64 ", (256, 128, 64)),
        ("32 16", (32, 16)),
        ("8", (8,)),
        ("64,,32,", (64, 32)),
    ],
)
def test_layer_sizes_read_from_text(text: str, units: tuple[int, ...]) -> None:
    assert parse_hidden_units(text) == units
    assert TrainConfig(hidden_units=parse_hidden_units(text)).hidden_units == units


@pytest.mark.parametrize("text", ["", " , ", "16, x", "1.5", "256;128"])
def test_text_that_is_not_whole_numbers_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="hidden layer sizes as whole numbers") as caught:
        parse_hidden_units(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize("text", ["0", "-4", "16, 100000", ",".join(["8"] * 17)])
def test_sizes_out_of_range_are_left_to_the_config_which_refuses_them(text: str) -> None:
    units = parse_hidden_units(text)
    with pytest.raises(ValueError, match="hidden layers of 1 to"):
        TrainConfig(hidden_units=units)


def test_the_cli_reads_layers_with_spaces_and_the_validation_share() -> None:
    from embedding_core.cli import _config, build_parser

    argv = ["train", "--data", "d.csv", "--categorical", "a", "--target", "y", "--out", "o"]
    assert _config(build_parser().parse_args(argv)).valid_fraction == 0.2
    args = build_parser().parse_args([*argv, "--hidden-units", "32, 16", "--valid-fraction", ".3"])
    assert (_config(args).hidden_units, _config(args).valid_fraction) == ((32, 16), 0.3)
