"""Bytes to text: refuse what is not text, and find the encoding of what is.

``reject_binary`` names the files people upload by mistake (a workbook, an image, an
archive) and refuses other binary content; ``encoded_bytes`` picks the encoding to
parse with: UTF-8, else cp1252, else latin-1, with UTF-16 re-encoded as UTF-8 and the
odd lines of a mostly UTF-8 file decoded on their own.
"""

from __future__ import annotations

import codecs
import re

from embedding_core.errors import DataError
from embedding_core.text import capitalised

__all__ = ["reject_binary", "encoded_bytes", "utf16_order", "LineDecoder", "mixed_note"]

_DECODE_CHUNK = 1 << 20
_C1 = re.compile(rb"[\x80-\x9f]")  # bytes cp1252 and latin-1 read differently
_HEAD = 4096  # bytes looked at to tell text from binary
_CONTROLS = tuple(chr(c) for c in range(32) if c not in (9, 10, 12, 13))
_UTF16_NULS = 0.3  # UTF-16 without a byte-order mark: at least this share of NULs on one side
_UTF16_STRAY = 0.02  # ... and at most this share on the other
# Signatures of files people upload by mistake, with a hint of what they are.
_KNOWN_BINARY = (
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx); save the sheet as CSV first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls); save the sheet as CSV first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"BZh", "a bzip2 archive; unpack it first"),
    (b"\xfd7zXZ", "an xz archive; unpack it first"),
    (b"7z\xbc\xaf", "a 7-Zip archive; unpack it first"),
)


def reject_binary(raw: bytes, label: str) -> None:
    """Refuse ``raw`` unless its first bytes look like text; name what it looks like."""
    head = raw[:_HEAD]
    for magic, what in _KNOWN_BINARY:
        if head.startswith(magic):
            raise DataError(f"{capitalised(label)} is not a CSV file; it looks like {what}.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or utf16_order(head):
        return  # UTF-16 text (Excel's "Unicode text"): NUL bytes are expected.
    if b"\x00" in head or _mostly_controls(head.decode("latin-1")):
        raise _binary_error(label)


def _mostly_controls(text: str) -> bool:
    """Control characters other than tab, newline, carriage return and form feed are
    almost never in CSV text but are frequent in random or binary content."""
    controls = sum(text.count(c) for c in _CONTROLS)
    return controls > max(8, len(text) // 50)


def utf16_order(head: bytes) -> str | None:
    """The byte order of UTF-16 text without a byte-order mark ("utf-16-le"), else None.

    CSV text in UTF-16 (digits, delimiters, Latin letters) has a NUL byte at every
    other position: the odd ones in little-endian, the even ones in big-endian.
    """
    pairs = len(head) // 2
    if pairs < 4:
        return None
    even, odd = head[: 2 * pairs : 2].count(0), head[1 : 2 * pairs : 2].count(0)
    if odd >= pairs * _UTF16_NULS and even <= pairs * _UTF16_STRAY:
        order = "utf-16-le"
    elif even >= pairs * _UTF16_NULS and odd <= pairs * _UTF16_STRAY:
        order = "utf-16-be"
    else:
        return None
    text = head[: 2 * pairs].decode(order, errors="replace")
    return None if "\x00" in text or _mostly_controls(text) else order


def encoded_bytes(raw: bytes, label: str) -> tuple[bytes, str, list[str]]:
    """The bytes to parse, their encoding and notes, found without decoding the file whole.

    UTF-16 (Excel's "Unicode text", with or without a byte-order mark) is re-encoded
    as UTF-8. A UTF-8 file with a few
    lines that are not (rows appended by another program) has those lines decoded as
    cp1252 (latin-1 if that fails) and re-encoded, with a note naming them. Otherwise
    the first of UTF-8, cp1252 and latin-1 that decodes every byte is chosen.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16").encode("utf-8"), "utf-8", []
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{capitalised(label)} starts like UTF-16 text but cannot be decoded: "
                "save it as UTF-8 CSV."
            ) from exc
    order = utf16_order(raw[:_HEAD])
    if order is not None:  # valid UTF-8 too (NUL is a character): check it first
        try:
            return raw.decode(order).encode("utf-8"), "utf-8", []
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{capitalised(label)} looks like UTF-16 text without a byte-order mark but cannot "
                "be decoded: save it as UTF-8 CSV."
            ) from exc
    if _decodes(raw, "utf-8-sig"):
        return raw, "utf-8-sig", []
    mixed = _mixed_utf8(raw)
    if mixed is not None:
        fixed, lines = mixed
        return fixed, "utf-8-sig", [mixed_note(lines[:3], len(lines), label)]
    if _decodes(raw, "cp1252"):
        return raw, "cp1252", []
    return raw, "latin-1", []  # decodes any byte string


def _mixed_utf8(raw: bytes) -> tuple[bytes, list[int]] | None:
    """A mostly UTF-8 file with its other lines re-encoded, and their line numbers.

    "Mostly": the file holds at least as many UTF-8 characters beyond ASCII as lines
    that are not UTF-8; None otherwise (a cp1252 file, where "\xc3\xa9" is a rare
    accident, is read as cp1252 whole).
    """
    evidence = _utf8_evidence(raw)
    if evidence == 0:
        return None
    recoded = _recode_lines(raw, limit=evidence)
    if recoded is None:
        return None
    fixed, starts, _, _ = recoded
    lines, line, counted = [], 1, 0
    for start in starts:
        line += _line_ends(raw, counted, start)
        lines.append(line)
        counted = start
    return fixed, lines


def _recode_lines(
    raw: bytes, limit: int | None = None
) -> tuple[bytes, list[int], list[bytes], bool] | None:
    """``raw`` with its lines that are not UTF-8 decoded on their own and re-encoded, where
    those lines start, the lines as they were, and whether the other lines are ASCII; None
    once more than ``limit`` lines are not UTF-8."""
    view = memoryview(raw)
    parts: list[bytes | memoryview] = []
    starts: list[int] = []
    bad: list[bytes] = []
    start, ascii_rest = 0, True
    while (error := _first_invalid(view, start)) is not None:
        newline = max(raw.rfind(b"\n", start, error), raw.rfind(b"\r", start, error))
        first = newline + 1 if newline >= 0 else start
        end = raw.find(b"\n", error)
        end = len(raw) if end < 0 else end
        carriage = raw.find(b"\r", error, end)
        end = carriage if carriage >= 0 else end
        starts.append(first)
        if limit is not None and len(starts) > limit:
            return None
        ascii_rest = ascii_rest and raw[start:first].isascii()
        bad.append(raw[first:end])
        parts += [view[start:first], _decode_line(bad[-1]).encode("utf-8")]
        start = end
    parts.append(view[start:])
    return b"".join(parts), starts, bad, ascii_rest and raw[start:].isascii()


class LineDecoder:
    """``encoded_bytes`` for a file read in pieces of whole lines, each returned as UTF-8.

    ``whole=False`` reads a mostly UTF-8 file: lines that are not UTF-8 are decoded as
    cp1252 (latin-1 if not) on their own; ``whole=True`` reads a cp1252 file: every
    piece is cp1252 (latin-1 if not). Which of the two ``encoded_bytes`` picks depends
    on the whole file: ``mismatch`` says, once the last piece is read, when it would
    have picked the other and so read other text. ``starts`` are where the lines that are
    not UTF-8 start (bytes from the first piece's start).
    """

    def __init__(self, whole: bool = False) -> None:
        self.whole = whole
        self.starts: list[int] = []
        self._read, self._evidence = 0, 0
        self._ascii_rest, self._latin1, self._c1 = True, False, False

    def decode(self, piece: bytes | memoryview, ascii: bool = False) -> bytes | memoryview:
        """``piece`` (whole lines) as UTF-8: ``piece`` itself when it is; ``ascii``: it is
        known to be ASCII (a bytes' ``isascii`` is 2x faster than a decode)."""
        self._read += len(piece)
        if ascii and not self.whole:
            return piece
        try:
            text, _ = codecs.utf_8_decode(piece, "strict", True)
        except UnicodeDecodeError:
            piece = bytes(piece)
        else:
            self._evidence += len(piece) - len(text)
            self._ascii_rest = self._ascii_rest and len(piece) == len(text)
            if not self.whole:
                return piece
            piece = bytes(piece)
            self._single_byte(piece)
            return _decode_line(piece).encode("utf-8")
        fixed, starts, bad, ascii_rest = _recode_lines(piece)  # type: ignore[misc]
        for line in [piece] if self.whole else bad:
            self._single_byte(line)
        self.starts += [self._read - len(piece) + start for start in starts]
        self._evidence += _utf8_evidence(piece)
        self._ascii_rest = self._ascii_rest and ascii_rest
        return _decode_line(piece).encode("utf-8") if self.whole else fixed

    @property
    def mixed(self) -> bool:
        """Whether ``encoded_bytes`` reads the pieces read so far as a mostly UTF-8 file with
        lines that are not (and says so in a note)."""
        return 0 < len(self.starts) <= self._evidence

    def mismatch(self) -> bool:
        """Whether ``encoded_bytes`` would read the pieces read so far as other text."""
        if (len(self.starts) > self._evidence) == self.whole:  # its choice (see _mixed_utf8)
            return self.whole and self._latin1 and self._c1  # latin-1 whole, not piece by piece
        return not self._ascii_rest or (self._latin1 and self._c1)

    def _single_byte(self, text: bytes) -> None:
        """Note how ``text`` decodes: as latin-1 (cp1252 fails), or as cp1252 with bytes
        latin-1 reads otherwise (which ``read_csv`` reads as latin-1 in a latin-1 file)."""
        try:
            text.decode("cp1252")
        except UnicodeDecodeError:
            self._latin1 = True
        else:
            self._c1 = self._c1 or _C1.search(text) is not None


def _line_ends(raw: bytes, start: int, end: int) -> int:
    """Line ends between ``start`` and ``end``: \\n, \\r\\n or a lone \\r (old Mac files)."""
    crlf = raw.count(b"\r\n", start, end)
    return raw.count(b"\n", start, end) + raw.count(b"\r", start, end) - crlf


def _first_invalid(raw: memoryview, start: int) -> int | None:
    """Where the first byte that is not UTF-8 is, from ``start`` on; None if there is none."""
    while start < len(raw):
        last = start + _DECODE_CHUNK >= len(raw)
        try:
            _, used = codecs.utf_8_decode(raw[start : start + _DECODE_CHUNK], "strict", last)
        except UnicodeDecodeError as exc:
            return start + exc.start
        start += used
    return None


def _utf8_evidence(raw: bytes) -> int:
    """How many bytes of ``raw`` belong to valid UTF-8 characters beyond ASCII (at most)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
    extra = 0
    for i in range(0, len(raw), _DECODE_CHUNK):
        text = decoder.decode(raw[i : i + _DECODE_CHUNK], final=i + _DECODE_CHUNK >= len(raw))
        if not text.isascii():
            extra += len(text.encode("utf-8")) - len(text)
    return extra


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def mixed_note(first: list[int], count: int, label: str) -> str:
    """The note on ``count`` lines read as cp1252 in a UTF-8 file; ``first``: the first three."""
    shown = ", ".join(f"{n:,}" for n in first[:3])
    more = f" and {count - 3:,} more" if count > 3 else ""
    which = f"line {shown}" if count == 1 else f"{count:,} lines ({shown}{more})"
    they = ("it is", "its") if count == 1 else ("they are", "their")
    return (
        f"Read {which} of {label} as Windows-1252 (cp1252) text, as {they[0]} not UTF-8 like "
        f"the rest of the file: check {they[1]} accented letters."
    )


def _decodes(raw: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for i in range(0, len(raw), _DECODE_CHUNK):
            decoder.decode(raw[i : i + _DECODE_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _binary_error(label: str) -> DataError:
    return DataError(
        f"{capitalised(label)} is not a text file (it contains binary data): choose a CSV."
    )
