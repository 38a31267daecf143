"""The library must stay usable without Streamlit, and cheap to import."""

import pathlib
import subprocess
import sys

import pytest

import embedding_core

ROOT = pathlib.Path(embedding_core.__file__).parent
# The only modules allowed to import TensorFlow/Keras at import time (``model/train.py``
# is not one: it promises a lazy import, inside the training call; ``rare_rows`` is a Keras
# optimiser that training imports only when ``row_bias_correction`` asks for it).
HEAVY = {"fm_layer", "deepfm", "entity", "rare_rows"}
LIGHT_MODULES = ["embedding_core"] + [
    "embedding_core." + ".".join(p.relative_to(ROOT).with_suffix("").parts)
    for p in sorted(ROOT.rglob("*.py"))
    if p.stem not in HEAVY and not p.stem.startswith("__")
]

PROBE = (
    "import importlib, sys; importlib.import_module(sys.argv[1]); "
    "print(','.join(m for m in ('streamlit', 'tensorflow', 'keras') if m in sys.modules))"
)


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_light_modules_import_neither_streamlit_nor_tensorflow(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, module], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"{module} pulled in: {out.stdout.strip()}"


def test_no_module_of_the_library_imports_streamlit() -> None:
    root = ROOT
    offenders = [
        p.name
        for p in root.rglob("*.py")
        if "import streamlit" in p.read_text() or "from streamlit" in p.read_text()
    ]
    assert offenders == []


def test_public_names_resolve() -> None:
    for name in embedding_core.__all__:
        assert getattr(embedding_core, name) is not None
