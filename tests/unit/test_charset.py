"""``LineDecoder`` reads a file a piece at a time as ``encoded_bytes`` reads it whole, or
says (``mismatch``) that the pieces read so far would be read as other text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_core.data.charset import LineDecoder, encoded_bytes

LINES = [
    b"Nancy,a,1",
    "Besançon,ü,0".encode(),  # UTF-8 beyond ASCII
    "Mâcon,é,1".encode("cp1252"),  # not UTF-8
    b"M\x80con,\x93,1",  # cp1252 bytes latin-1 reads otherwise
    b"M\x81con,x,1",  # a byte cp1252 leaves undefined: latin-1
    "Ã©t\u00e9".encode("cp1252"),  # cp1252 that is valid UTF-8 too
]


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.sampled_from(LINES), min_size=1, max_size=12),
    cuts=st.sets(st.integers(1, 11)),
    whole=st.booleans(),
)
def test_pieces_decode_as_the_whole_file_unless_a_mismatch_is_told(lines, cuts, whole):
    raw = b"".join(line + b"\n" for line in lines)
    expected, encoding, notes = encoded_bytes(raw, "t.csv")
    decoder = LineDecoder(whole=whole)
    bounds = [0, *sorted(c for c in cuts if c < len(lines)), len(lines)]
    pieces = [
        b"".join(line + b"\n" for line in lines[a:b])
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    text = b"".join(bytes(decoder.decode(piece)) for piece in pieces).decode("utf-8")
    if not decoder.mismatch():
        assert text == expected.decode(encoding)
    assert decoder.mixed == bool(notes)
