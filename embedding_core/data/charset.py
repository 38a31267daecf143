"""Bytes to text: refuse what is not text, and find the encoding of what is.

``reject_binary`` names the files people upload by mistake (a workbook, an image, an
archive) and refuses other binary content; ``encoded_bytes`` picks the encoding to
parse with: UTF-8, else cp1252, else latin-1, with UTF-16 re-encoded as UTF-8.
"""

from __future__ import annotations

import codecs

from embedding_core.errors import DataError

__all__ = ["reject_binary", "encoded_bytes"]

_DECODE_CHUNK = 1 << 20
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
    head = raw[:4096]
    for magic, what in _KNOWN_BINARY:
        if head.startswith(magic):
            raise DataError(f"{_cap(label)} is not a CSV file; it looks like {what}.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return  # UTF-16 text (Excel's "Unicode text"): NUL bytes are expected.
    if b"\x00" in head:
        raise _binary_error(label)
    # Control characters other than tab, newline, carriage return and form feed are
    # almost never in CSV text but are frequent in random or binary content.
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    if controls > max(8, len(head) // 50):
        raise _binary_error(label)


def encoded_bytes(raw: bytes, label: str) -> tuple[bytes, str]:
    """The bytes to parse and their encoding, found without decoding the file into memory.

    UTF-16 (Excel's "Unicode text") is re-encoded as UTF-8; otherwise the first of
    UTF-8, cp1252 and latin-1 that decodes every byte is chosen.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16").encode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{_cap(label)} starts like UTF-16 text but cannot be decoded: "
                "save it as UTF-8 CSV."
            ) from exc
    for encoding in ("utf-8-sig", "cp1252"):
        if _decodes(raw, encoding):
            return raw, encoding
    return raw, "latin-1"  # decodes any byte string


def _decodes(raw: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for i in range(0, len(raw), _DECODE_CHUNK):
            decoder.decode(raw[i : i + _DECODE_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _cap(label: str) -> str:
    return label[:1].upper() + label[1:]


def _binary_error(label: str) -> DataError:
    return DataError(f"{_cap(label)} is not a text file (it contains binary data): choose a CSV.")
