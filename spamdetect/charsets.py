"""HTML bytes to text: which charset a page is in, and decoding it as a browser would.

The order of trust: the HTTP Content-Type's charset, then a BOM or the page's own ``<meta>``
charset, then UTF-8, then UTF-8 with a few stray bytes replaced (as a browser shows such a page),
then statistical detection, then cp1252 (which decodes any byte). Charset
labels mean what the WHATWG Encoding Standard says browsers decode them with ("iso-8859-1" is
cp1252, "gb2312" is gb18030). When the page's declaration was wrong or missing, the decoder says
so in a note, which the scorers carry into the record's reasons.
"""

from __future__ import annotations

import codecs
import re

_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG Encoding Standard: these labels mean the superset browsers actually decode with.
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252", "latin1": "cp1252",
    "latin-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "iso8859-1": "cp1252", "shift_jis": "cp932",
    "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932", "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949", "tis-620": "cp874", "iso-8859-9": "cp1254", "big5": "big5hkscs",
}
_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_CONTENT_TYPE_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.I)


def codec_name(label: str | None) -> str | None:
    """Python codec name for a charset label (WHATWG aliases applied), None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def sniff_charset(raw: bytes) -> str | None:
    """Charset from a BOM or a <meta charset> / http-equiv in the first 2 KB."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    m = _CHARSET.search(raw[:2048])
    return m.group(1).decode("ascii", "ignore") if m else None


def decode_html(raw: bytes, declared: str | None = None, *, final: bool = True) -> str:
    """Decode HTML bytes: declared charset, then <meta> charset, then UTF-8, then UTF-8 with a few stray
    bytes replaced, then detected, then cp1252.

    ``final=False`` for bytes cut at a cap: a multibyte sequence cut at the end is dropped
    instead of failing the whole decode.
    """
    return decode_html_noted(raw, declared, final=final)[0]


def decode_html_noted(raw: bytes, declared: str | None = None, *, final: bool = True) -> tuple[str, str | None]:
    """``decode_html`` plus a note when the page's own declaration was wrong or missing (else None)."""
    meta = sniff_charset(raw)
    for label in (declared, meta, "utf-8"):
        codec = codec_name(label)
        if codec is None:
            continue
        try:
            text = _decode(raw, codec, final)
        except (UnicodeError, LookupError):  # UnicodeError: utf-16/32 without a BOM
            continue
        return text.lstrip("\ufeff"), _charset_note(declared, meta, codec)
    if (mostly := _mostly_utf8(raw, final)) is not None:
        text, bad = mostly
        note = _charset_note(declared, meta, "utf-8")
        replaced = f"{bad} byte sequence(s) invalid in UTF-8 replaced (the rest of the page is UTF-8)"
        return text.lstrip("\ufeff"), f"{note}; {replaced}" if note else replaced
    codec = _detect(raw)
    if codec is not None:
        try:
            text = codecs.getincrementaldecoder(codec)(errors="replace").decode(raw, final=final)
            return text, _charset_note(declared, meta, codec, detected=True)
        except (UnicodeError, LookupError):
            pass
    return raw.decode("cp1252", errors="replace"), _charset_note(declared, meta, "cp1252")


def _charset_note(declared: str | None, meta: str | None, used: str, detected: bool = False) -> str | None:
    how = "detected" if detected else "fallback"
    for what, label in (("HTTP charset", declared), ("<meta> charset", meta)):
        if label and codec_name(label) != used:
            if codec_name(label) is None:
                return f"unknown {what} {label!r}; decoded as {used} ({how})"
            return f"{what} {label} does not fit the body; decoded as {used} ({how})"
    if used != "utf-8" and not declared and not meta:
        return f"no charset declared and not UTF-8; decoded as {used} ({how})"
    return None


def _mostly_utf8(raw: bytes, final: bool) -> tuple[str, int] | None:
    """(the text, how many invalid sequences were replaced) when ``raw`` is UTF-8 with a few stray
    bytes: more of its non-ASCII characters decode as UTF-8 than fail to. Else None.

    CMS pages often hold a Latin-1 fragment (an image's alt text) in a UTF-8 page. A browser decodes
    such a page as UTF-8, with a replacement character per stray byte; statistical detection, given
    the whole page, guesses a legacy code page and garbles every accented letter. A page really in
    cp1252 has next to no valid UTF-8 sequences, so it still goes on to detection.
    """
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(raw, final=final)
    bad = text.count("\ufffd") - raw.count("\ufffd".encode())  # U+FFFD the page itself holds is not a failure
    good = len(_NON_ASCII.findall(text))
    return (text, bad) if good > bad else None


def _detect(raw: bytes) -> str | None:
    """Statistical detection (charset_normalizer, on a 64 KB sample); None for short or binary input,
    where a guess is worth less than the cp1252 fallback."""
    if len(raw) < 256:
        return None
    from charset_normalizer import from_bytes  # rare path: import on first use

    best = from_bytes(raw[:65536]).best()
    return codec_name(best.encoding) if best is not None else None


def _decode(raw: bytes, codec: str, final: bool) -> str:
    if final:
        return raw.decode(codec)
    return codecs.getincrementaldecoder(codec)().decode(raw, final=False)


def content_type_charset(content_type: str | None) -> str | None:
    """The charset parameter of an HTTP Content-Type, if any."""
    if not content_type:
        return None
    m = _CONTENT_TYPE_CHARSET.search(content_type)
    return m.group(1) if m else None
