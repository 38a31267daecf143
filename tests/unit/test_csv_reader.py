"""read_csv: encodings, delimiters, gzip, limits, and a clear DataError for every bad input."""

from __future__ import annotations

import csv
import gzip
import io
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.encoding import MISSING_TOKENS
from embedding_core.errors import DataError

SIMPLE = b"id,city,amount\n007,Nancy,1.5\n042,Oslo,2\n"


def _csv_rows(raw: bytes) -> list[list[str]]:
    text = raw.decode("utf-8")
    return list(csv.reader(io.StringIO(text), delimiter=";" if ";" in text else ","))


def _csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


# --- sources ---------------------------------------------------------------------------


def test_reads_bytes_path_and_file_like_identically(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(SIMPLE)
    from_bytes = read_csv(SIMPLE)
    pd.testing.assert_frame_equal(read_csv(path), from_bytes)
    pd.testing.assert_frame_equal(read_csv(str(path)), from_bytes)
    pd.testing.assert_frame_equal(read_csv(io.BytesIO(SIMPLE)), from_bytes)
    with path.open("rb") as fh:
        pd.testing.assert_frame_equal(read_csv(fh), from_bytes)
    assert from_bytes.columns.tolist() == ["id", "city", "amount"]
    assert from_bytes["city"].tolist() == ["Nancy", "Oslo"]


def test_file_like_is_read_from_the_start_even_if_already_consumed():
    buffer = io.BytesIO(SIMPLE)
    buffer.read()
    assert len(read_csv(buffer)) == 2


def test_every_column_is_text_and_leading_zeros_survive():
    df = read_csv(b"zip,customer_id,amount,flag\n01234,000123,0012.50,0\n90210,123,3,1\n")
    assert all(str(dtype) == "str" for dtype in df.dtypes)
    assert df["zip"].tolist() == ["01234", "90210"]
    assert df["customer_id"].tolist() == ["000123", "123"]
    assert df["amount"].tolist() == ["0012.50", "3"]


def test_only_empty_cells_and_explicit_markers_are_missing():
    df = read_csv(b"a,b,c\nNA,None,\nnull,?,x\n__NA__,__NA__x,__NA__\n")
    assert df["a"].isna().tolist() == [False, False, True]  # __NA__, as the shared files
    assert df["a"].tolist()[:2] == ["NA", "null"]
    assert df["b"].tolist() == ["None", "?", "__NA__x"]
    assert df["c"].isna().tolist() == [True, False, True]


def test_header_names_are_stripped_and_blank_names_filled():
    df = read_csv(b" name , ,age\nx,y,3\n")
    assert df.columns.tolist() == ["name", "column_2", "age"]


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("quoted", [False, True])  # the fast parser, and pandas' parser
def test_a_header_written_like_a_missing_marker_keeps_its_name(delimiter, quoted):
    q = '"' if quoted else ""
    raw = f"{q}__NA__{q}{delimiter}b\nx{delimiter}1\n__NA__{delimiter}2\n".encode()
    df = read_csv(raw)
    assert df.columns.tolist() == ["__NA__", "b"]
    assert df["__NA__"].isna().tolist() == [False, True]  # in the data it is missing
    assert df.attrs["notes"] == []


@pytest.mark.parametrize(
    ("header", "names", "note"),
    [
        (b",column_1,x", ["column_1_2", "column_1", "x"], "Column 1 of the file has no name"),
        (
            b"column_2,,column_2_2",
            ["column_2", "column_2_3", "column_2_2"],
            "it is called 'column_2_3'",
        ),
        (b" name , ,age", ["name", "column_2", "age"], "Column 2 of the file has no name"),
        (b"a,,b,", ["a", "column_2", "b", "column_4"], "Columns 2, 4 of the file have no name"),
    ],
)
def test_unnamed_columns_get_names_that_clash_with_none_and_a_note(header, names, note):
    width = len(names)
    df = read_csv(header + b"\n" + b",".join([b"1"] * width) + b"\n")
    assert df.columns.tolist() == names
    [written] = df.attrs["notes"]
    assert note in written


def test_fully_empty_rows_are_dropped():
    df = read_csv(b"a,b\n1,2\n,\n\n3,4\n,\n")
    assert df["a"].tolist() == ["1", "3"]


def test_short_rows_are_padded_with_missing():
    df = read_csv(b"a,b,c\n1,2\n3,4,5\n")
    assert df["c"].isna().tolist() == [True, False]


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
@pytest.mark.parametrize("delimiter", [b",", b";"])
def test_windows_and_old_mac_line_endings(newline, delimiter):
    rows = [b"a" + delimiter + b"b", b"1" + delimiter + b"x", b"2" + delimiter + b"y"]
    df = read_csv(newline.join(rows) + newline)
    assert df.to_dict("list") == {"a": ["1", "2"], "b": ["x", "y"]}


def test_single_column_file():
    df = read_csv(b"city\nOslo\nRome\n")
    assert df.columns.tolist() == ["city"]
    assert df["city"].tolist() == ["Oslo", "Rome"]


# --- encodings -------------------------------------------------------------------------


def test_utf8_with_bom():
    df = read_csv("\ufeffnom,ville\nRené,Besançon\n".encode())
    assert df.columns.tolist() == ["nom", "ville"]
    assert df.iloc[0].tolist() == ["René", "Besançon"]


def test_cp1252_fallback_keeps_accents_and_euro_sign():
    raw = "produit;prix\ncafé crème;3 €\nthé;2 €\n".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    df = read_csv(raw)
    assert df["produit"].tolist() == ["café crème", "thé"]
    assert df["prix"].tolist() == ["3 €", "2 €"]


def test_latin1_fallback_for_bytes_undefined_in_cp1252():
    raw = b"name,code\nA\x81b,\xe9\n"  # 0x81 has no cp1252 character
    df = read_csv(raw)
    assert df["name"].tolist() == ["A\x81b"]
    assert df["code"].tolist() == ["é"]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("where", [0, 1, 3])
def test_a_latin1_line_in_a_utf8_file_leaves_the_other_lines_alone(end, where):
    rows = ["city;y", "Zürich;1", "Genève;0", "Łódź;1", "Köln;0"]
    rows.insert(where + 1, "Café crème;1")
    raw = b"".join(
        r.encode("cp1252" if r.startswith("Café") else "utf-8") + end.encode() for r in rows
    )
    df = read_csv(raw)
    assert df["city"].tolist() == [r.split(";")[0] for r in rows[1:]]
    assert df.attrs["notes"] == [
        f"Read line {where + 2} of the file as Windows-1252 (cp1252) text, as it is not UTF-8 "
        "like the rest of the file: check its accented letters."
    ]


def test_the_repro_of_a_mixed_file_and_its_note_naming_several_lines():
    df = read_csv("city,y\nZürich,1\n".encode() + b"Caf\xe9,0\n")
    assert df["city"].tolist() == ["Zürich", "Café"]
    raw = "city,y\nZürich,1\n".encode() + b"Caf\xe9,0\n" * 5 + "Genève,1\n".encode() * 5
    [note] = read_csv(raw, name="eu.csv").attrs["notes"]
    assert note.startswith("Read 5 lines (3, 4, 5 and 2 more) of 'eu.csv' as Windows-1252")


@pytest.mark.parametrize(
    ("raw", "city"),
    [
        ("city;y\nZürich;1\n".encode(), "Zürich"),  # UTF-8: as it was
        ("city;y\nCafé;1\nthé;0\n".encode("cp1252"), "Café"),  # cp1252 whole
        # cp1252 where two bytes happen to be UTF-8 ("Ã©" is "é"): still cp1252 whole
        ("city;y\nÃ©;1\nCafé;1\nthé;0\n".encode("cp1252"), "Ã©"),
    ],
)
def test_files_in_one_encoding_get_no_mixed_encoding_note(raw, city):
    df = read_csv(raw)
    assert df["city"].iloc[0] == city
    assert df.attrs["notes"] == []


def test_utf16_with_bom():
    df = read_csv("city\tcount\nZürich\t3\n".encode("utf-16"))
    assert df.columns.tolist() == ["city", "count"]
    assert df["city"].tolist() == ["Zürich"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("delimiter", ["\t", ",", ";"])
def test_utf16_without_bom(encoding, delimiter):
    text = f"city{delimiter}count\nZürich{delimiter}3\nŁódź{delimiter}4\n"
    df = read_csv(text.encode(encoding))
    assert df.columns.tolist() == ["city", "count"]
    assert df["city"].tolist() == ["Zürich", "Łódź"]


def test_utf16_cut_short_or_binary_with_nuls_is_still_refused():
    with pytest.raises(DataError, match="UTF-16 text without a byte-order mark .* as UTF-8"):
        read_csv("city\tcount\nZürich\t3\n".encode("utf-16-le") + b"x")
    small_numbers = np.arange(2_000, dtype="<i2") % 40  # binary: a NUL in every other byte
    with pytest.raises(DataError, match="not a text file"):
        read_csv(small_numbers.tobytes())


# --- delimiters ------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter):
    rows = [["id", "label", "value"], ["01", "a", "1"], ["02", "b", "2"], ["03", "c", "3"]]
    df = read_csv(_csv_bytes(rows, delimiter))
    assert df.columns.tolist() == ["id", "label", "value"]
    assert df["id"].tolist() == ["01", "02", "03"]


def test_semicolon_file_with_decimal_commas():
    df = read_csv(b"region;price;rate\nNord;1,5;0,25\nSud;2,75;0,5\n")
    assert df.columns.tolist() == ["region", "price", "rate"]
    assert df["price"].tolist() == ["1.5", "2.75"]
    assert df["region"].tolist() == ["Nord", "Sud"]


def test_comma_file_whose_quoted_values_contain_semicolons():
    rows = [["a", "b"]] + [[f"x;{i};y", f"v|{i}"] for i in range(10)]
    df = read_csv(_csv_bytes(rows, ","))
    assert df.columns.tolist() == ["a", "b"]
    assert df["a"].iloc[3] == "x;3;y"


# --- numbers written with decimal commas or thousands separators ------------------------


@pytest.mark.parametrize(
    ("raw", "expected", "written"),
    [
        (  # European Excel: ";" and decimal commas, with "." groups
            b"premium;claim_amount;city\n820,23;1.234,50;Metz\n12,5;0;Nancy\n",
            {"premium": ["820.23", "12.5"], "claim_amount": ["1234.50", "0"]},
            "decimal commas",
        ),
        (  # French: no-break space groups, a sign, missing values and tokens
            "prix;n\n1\u00a0234,5;1\n-0,75;2\n;3\nNA;4\n".encode("cp1252"),
            {"prix": ["1234.5", "-0.75", None, "NA"]},
            "decimal commas",
        ),
        (b"a\tb\n1 234 567,5\tx\n 3,25 \ty\n", {"a": ["1234567.5", "3.25"]}, "decimal"),
        (b"a|b\n1,5E+03|x\n2|y\n", {"a": ["1.5E+03", "2"]}, "decimal commas"),
        (  # quoted thousands in a comma-separated file (Excel "#,##0")
            b'id,income\n1,"12,345"\n2,"1,234,567"\n3,999\n',
            {"income": ["12345", "1234567", "999"], "id": ["1", "2", "3"]},
            "thousands separators",
        ),
        (b'id,income\n1,"1,500"\n2,"2,250"\n', {"income": ["1500", "2250"]}, "thousands"),
        (  # outside comma files, thousands need a value only they read: "12.5", "1,234,567"
            b"a;b\n1,500;x\n12.5;y\n",
            {"a": ["1500", "12.5"]},
            "thousands separators",
        ),
        (b"a;b\n1,234,567;x\n2,500;y\n", {"a": ["1234567", "2500"]}, "thousands separators"),
    ],
)
def test_numbers_written_with_commas_are_read_as_numbers(raw, expected, written):
    df = read_csv(raw)
    for column, values in expected.items():
        assert [None if pd.isna(v) else v for v in df[column]] == values
    assert all(str(dtype) == "str" for dtype in df.dtypes)
    [note] = df.attrs["notes"]
    assert note.startswith("Read ") and written in note
    assert all(f"'{c}'" in note for c in expected if c != "id")


def test_the_note_names_every_converted_column_once():
    raw = b"premium;claim_amount;city\n820,23;1.234,50;Metz\n12,5;0;Nancy\n"
    assert read_csv(raw).attrs["notes"] == [
        "Read 'premium', 'claim_amount' as numbers written with decimal commas "
        "('820,23' as 820.23)."
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b'a,b\n"1,5",x\n"1,500",y\n',  # a comma file: "1,5" is a list, or a typo
        b"a;b\n1,500;x\n2,250;y\n",  # every comma reads both ways: 1.5 or 1500
        b"a;b\n01,02;x\n3,5;y\n",  # a leading zero: a code
        b"a;b\n1.500;x\n2,5;y\n",  # "1.500" alone may be one and a half
        b"a;b\n1,5;x\nabout 2;y\n",  # a word
        b"a;b\n1,2,3;x\n4,5;y\n",  # a list
        b'a,b\n"12,34",x\n"1,234",y\n',  # a group of two digits
    ],
)
def test_comma_columns_that_read_two_ways_stay_text(raw):
    df = read_csv(raw)
    text = _csv_rows(raw)
    assert df["a"].tolist() == [row[0] for row in text[1:]]
    assert df.attrs["notes"] == []


def test_many_rows_of_decimal_commas_late_in_the_file():
    """The decision is on every value, not on the first rows."""
    rows = [["amount", "y"]] + [[str(i), "0"] for i in range(3_000)] + [["2,5", "1"]]
    df = read_csv(_csv_bytes(rows, ";"))
    assert df["amount"].iloc[-1] == "2.5" and df["amount"].iloc[0] == "0"
    rows[1][0] = "007"  # ... so one code in the column keeps it all text
    assert read_csv(_csv_bytes(rows, ";"))["amount"].iloc[-1] == "2,5"


# --- values that must survive exactly ---------------------------------------------------

TRICKY = [
    "plain",
    "comma, inside",
    'a "quoted" word',
    "line one\nline two",
    "<b>bold</b> & <script>alert('x')</script>",
    "  spaces kept  ",
    "semi;colon|pipe\ttab",
    "émoji 🚀 and 中文",
    '"',
    ",",
]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_tricky_category_values_survive_exactly(delimiter):
    rows = [["category", "n"]] + [[value, str(i)] for i, value in enumerate(TRICKY)]
    df = read_csv(_csv_bytes(rows, delimiter))
    assert df["category"].tolist() == TRICKY
    assert df["n"].tolist() == [str(i) for i in range(len(TRICKY))]


# Any printable text plus newlines and tabs (control characters mean "binary" to the reader).
_cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t"),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_cell, _cell, _cell), min_size=1, max_size=15))
@example([("1,234", "x", "")])
def test_any_text_written_by_csv_module_round_trips(rows):
    raw = _csv_bytes([["a", "b", "c"], *map(list, rows)])
    # A missing marker reads as missing (Hypothesis draws the module's own string
    # constants, so "__NA__" comes up); rows with every cell missing are dropped.
    cells = [tuple("" if v in MISSING_TOKENS else v for v in r) for r in rows]
    expected = [r for r in cells if any(v != "" for v in r)]
    if not expected:
        with pytest.raises(DataError, match="no data rows"):
            read_csv(raw)
        return
    df = read_csv(raw)
    got = [tuple("" if pd.isna(v) else v for v in row) for row in df.itertuples(index=False)]
    # a column of "1,234"-like numbers only is read without its thousands separators
    numbers = [i for i, c in enumerate("abc") if any(f"'{c}'" in n for n in df.attrs["notes"])]
    expected = [
        tuple(v.strip().replace(",", "") if i in numbers else v for i, v in enumerate(r))
        for r in expected
    ]
    assert got == expected


# --- gzip ------------------------------------------------------------------------------


def test_gzip_path_bytes_and_file_like(tmp_path):
    packed = gzip.compress(SIMPLE)
    path = tmp_path / "data.csv.gz"
    path.write_bytes(packed)
    expected = read_csv(SIMPLE)
    pd.testing.assert_frame_equal(read_csv(path), expected)
    pd.testing.assert_frame_equal(read_csv(packed), expected)
    pd.testing.assert_frame_equal(read_csv(io.BytesIO(packed)), expected)


def test_gzip_detected_by_magic_bytes_not_by_name(tmp_path):
    path = tmp_path / "no_extension"
    path.write_bytes(gzip.compress("a;b\n1;é\n".encode("cp1252")))
    assert read_csv(path)["b"].tolist() == ["é"]


def test_concatenated_gzip_members():
    packed = gzip.compress(b"a,b\n1,2\n") + gzip.compress(b"3,4\n")
    assert read_csv(packed)["a"].tolist() == ["1", "3"]


def test_truncated_gzip_is_reported():
    packed = gzip.compress(SIMPLE * 50)
    with pytest.raises(DataError, match="gzip"):
        read_csv(packed[: len(packed) // 2])


# --- bad inputs ------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   \n\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"])
def test_empty_file(raw):
    with pytest.raises(DataError, match="is empty"):
        read_csv(raw)


def test_empty_gzip_file():
    with pytest.raises(DataError, match="is empty"):
        read_csv(gzip.compress(b""))


@pytest.mark.parametrize("raw", [b"a,b,c\n", b"a,b,c", b"a;b;c\n\n\n", b"a,b,c\n,,\n,,\n"])
def test_header_only(raw):
    with pytest.raises(DataError, match=r"header row \(a, b, c\) but no data rows"):
        read_csv(raw)


def test_binary_garbage_random_bytes():
    raw = random.Random(0).randbytes(5000)
    with pytest.raises(DataError, match="not a text file"):
        read_csv(raw)


def test_binary_garbage_without_nul_bytes():
    rng = random.Random(1)
    raw = bytes(rng.choice([b for b in range(1, 256)]) for _ in range(3000))
    assert b"\x00" not in raw
    with pytest.raises(DataError, match="not a text file"):
        read_csv(raw)


@pytest.mark.parametrize(
    ("magic", "hint"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        (b"%PDF-1.7\n", "PDF"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
    ],
)
def test_known_binary_formats_are_named(magic, hint):
    with pytest.raises(DataError, match=hint):
        read_csv(magic + bytes(range(256)))


def test_binary_inside_gzip():
    with pytest.raises(DataError, match="PNG"):
        read_csv(gzip.compress(b"\x89PNG\r\n\x1a\n" + bytes(300)))


def test_duplicate_column_names_are_named():
    with pytest.raises(DataError, match="duplicate column names: 'price'") as info:
        read_csv(b"id,price,region,price\n1,2,3,4\n")
    assert "'id'" not in str(info.value)


def test_duplicates_after_stripping_and_several_of_them():
    with pytest.raises(DataError, match="'a', 'b' appear more than once"):
        read_csv(b"a, a ,b,b\n1,2,3,4\n")


@pytest.mark.parametrize(
    ("raw", "skipped"),
    [
        (b"Claims export 2026\npolicy,region,amount\n1,N,2\n2,S,3\n", "line 1"),
        (
            b"\xef\xbb\xbfClaims export 2026\r\n\r\npolicy;region;amount\r\n1;N;2\r\n",
            "line 1",
        ),
        (b"Claims\nExported 2026-01-05 by X\npolicy\tregion\tamount\n1\tN\t2\n", "lines 1 to 2"),
    ],
)
def test_a_title_above_the_header_is_skipped_with_a_note(raw, skipped):
    df = read_csv(raw, name="claims.csv")
    assert df.columns.tolist() == ["policy", "region", "amount"]
    assert df.iloc[0].tolist() == ["1", "N", "2"]
    [note] = df.attrs["notes"]
    assert note.startswith(f"Skipped {skipped} of 'claims.csv' ('Claims")
    assert "as a title above the header" in note


@pytest.mark.parametrize(
    "raw",
    [
        b'[\n {\n  "city": "Metz",\n  "y": 0\n },\n {\n  "city": "Nice",\n  "y": 1\n }\n]\n',
        b'{"city": "Metz", "y": 0}\n{"city": "Nice", "y": 1}\n',  # JSON lines
        b'\xef\xbb\xbf  [["city", "y"], ["Metz", 0]]',
    ],
)
def test_json_is_named_as_such(raw):
    with pytest.raises(DataError, match="looks like JSON, not CSV: save the table as CSV"):
        read_csv(raw)
    assert read_csv(b"[id],name\n1,x\n").columns.tolist() == ["[id]", "name"]  # still CSV


def test_row_with_too_many_fields_names_the_line():
    with pytest.raises(DataError, match="Line 3 .* has 4 fields but the header has 3"):
        read_csv(b"a,b,c\n1,2,3\n4,5,6,7\n")


def test_unclosed_quote_names_the_line():
    with pytest.raises(DataError, match=r"double quote .* opened on line 3 .* never closed"):
        read_csv(b'a,b\n1,2\n3,"x\n5,6\n')


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_csv(tmp_path / "nope.csv")


def test_wrong_source_type():
    with pytest.raises(TypeError):
        read_csv(12345)  # type: ignore[arg-type]


# --- limits ----------------------------------------------------------------------------


def test_size_limit(tmp_path):
    raw = b"a,b\n" + b"1,2\n" * 1000
    assert len(read_csv(raw, max_bytes=len(raw))) == 1000
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    for source in (raw, path, io.BytesIO(raw)):
        with pytest.raises(DataError, match=r"larger than the 3 kB limit"):
            read_csv(source, max_bytes=3000)


def test_size_limit_applies_after_decompression():
    raw = b"a,b\n" + b"1,2\n" * 100_000  # 400 kB that packs into about 1 kB
    packed = gzip.compress(raw)
    assert len(packed) < 5_000
    with pytest.raises(DataError, match="once unpacked"):
        read_csv(packed, max_bytes=100_000)
    assert len(read_csv(packed, max_bytes=len(raw))) == 100_000


def test_row_limit():
    raw = b"a,b\n" + b"1,2\n" * 10
    assert len(read_csv(raw, max_rows=10)) == 10
    with pytest.raises(DataError, match="more than 9 rows"):
        read_csv(raw, max_rows=9)


def test_messages_use_the_file_name(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="^'sales.csv' is empty"):
        read_csv(path)
    with pytest.raises(DataError, match="^'upload.csv' is empty"):
        read_csv(b"", name="upload.csv")
    with pytest.raises(DataError, match="^The file is empty"):
        read_csv(b"")


def test_large_generated_file_is_read_quickly():
    rng = np.random.default_rng(0)
    n = 50_000
    frame = pd.DataFrame(
        {
            "id": [f"C{i:07d}" for i in range(n)],
            "zip": rng.integers(0, 99_999, n).astype(str),
            "x": rng.normal(size=n).round(3).astype(str),
        }
    )
    raw = frame.to_csv(index=False).encode()
    df = read_csv(raw)
    assert df.shape == (n, 3)
    assert df["id"].iloc[-1] == f"C{n - 1:07d}"


# --- hostile input: bounded work, only DataError ---------------------------------------


def test_a_million_empty_header_fields_are_refused_fast_with_the_count():
    import time

    started = time.perf_counter()
    with pytest.raises(DataError, match=r"1,000,001 columns .* limit of 5,000"):
        read_csv(b"," * 1_000_000 + b"\n")
    assert time.perf_counter() - started < 5  # generous: milliseconds when idle


def test_column_limit_counts_fields_not_quoted_delimiters():
    header = ",".join(f'"c{i},x"' for i in range(10)) + "\n"
    frame = read_csv((header + ",".join("1" * 10) + "\n").encode(), max_columns=10)
    assert frame.shape == (1, 10) and frame.columns[0] == "c0,x"
    with pytest.raises(DataError, match="11 columns"):
        read_csv(("a," * 10 + "b\n" + "1," * 10 + "2\n").encode(), max_columns=10)


def test_row_limit_stops_a_gzip_bomb_early():
    bomb = gzip.compress(b"a,b\n" + b"x,1\n" * 3_000_000)  # ~12 MB unpacked from ~12 kB
    with pytest.raises(DataError, match="more than 1,000 rows"):
        read_csv(bomb, max_rows=1_000)


def test_excel_sep_line_sets_the_delimiter():
    frame = read_csv(b"sep=;\r\na;b\r\n1,5;x\r\n")
    assert list(frame.columns) == ["a", "b"] and frame["a"].tolist() == ["1.5"]
    frame = read_csv(b"\xef\xbb\xbfSEP=|\nx|y\n1|2\n")
    assert list(frame.columns) == ["x", "y"]


def test_control_characters_in_names_are_escaped_in_messages():
    with pytest.raises(DataError) as info:
        read_csv(b"a\x1b[31m,a\x1b[31m\n1,2\n")
    assert "\x1b" not in str(info.value) and "\\x1b" in str(info.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
@example(b"\n \tb\nc\td\n")  # a blank line, one field: no title to skip
def test_any_bytes_give_a_text_frame_or_a_data_error(raw):
    try:
        frame = read_csv(raw, max_columns=50, max_rows=100)
    except DataError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert 1 <= frame.shape[1] <= 50 and 1 <= len(frame) <= 100
    assert frame.columns.is_unique
    assert all(pd.api.types.is_string_dtype(frame[c]) for c in frame.columns)


# --- pyarrow's parser reads what pandas' parser reads --------------------------------------

# Tables of CSV-ish text built from the pieces parsers disagree on: quotes, delimiters,
# line ends, blanks, missing markers, a BOM, rows one field short or long.
_piece = st.sampled_from(
    ["", " ", "a", "é", "1", "__NA__", "x y", "\ufeff"] * 5 + ['"', "\t", ";", ","]
)


@st.composite
def _table_text(draw: st.DrawFn) -> tuple[str, str]:
    delimiter = draw(st.sampled_from([",", ";", "|", "\t"]))
    width = draw(st.integers(1, 4))
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        n = max(width + draw(st.sampled_from([0, 0, 0, 0, -1, 1])), 0)
        lines.append(
            delimiter.join(draw(st.lists(_piece, max_size=3).map("".join)) for _ in range(n))
        )
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + end.join(lines) + draw(st.sampled_from(["", end])), delimiter


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_table_text())
@example(("\r,\r,a\r\r\r", ","))  # lines ended by a lone \r: the two parsers split them apart
@example(("h,i\r\n1,2\r3,4\r\n", ","))
def test_the_fast_parser_gives_the_frame_of_the_pandas_parser_or_leaves_it_alone(case):
    """``_parse_arrow`` must give exactly ``_parse``'s frame, or hand over (None)."""
    from embedding_core.data.csv_reader import _count_header_fields, _parse, _parse_arrow

    text, delimiter = case
    raw = text.encode("utf-8")
    try:
        n_columns = _count_header_fields(raw, delimiter, 100, "t")
    except DataError:
        return
    fast = _parse_arrow(raw, "utf-8-sig", delimiter, n_columns, None)
    event("fast" if fast is not None else "handed over")
    if fast is not None:
        slow = _parse(raw, "utf-8-sig", delimiter, n_columns, None, "t")
        pd.testing.assert_frame_equal(fast, slow)
