"""Charset detection and decoding (the readers' files, the WARC reader and the page's fallback use it)."""

import pytest

from spamdetect.charsets import codec_name, content_type_charset, decode_html, decode_html_noted


@pytest.mark.parametrize("raw, declared, expected", [
    ("Grüße".encode("utf-8"), None, "Grüße"),
    ("Grüße".encode("cp1252"), None, "Grüße"),  # not utf-8: cp1252 fallback
    ("中文新闻".encode("gbk"), "gb2312", "中文新闻"),  # declared label, browser superset
    ('<meta charset="gbk"><p>中文</p>'.encode("gbk"), None, '<meta charset="gbk"><p>中文</p>'),
    ('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">日本'.encode("cp932"), None,
     '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">日本'),
    ("\ufeffBOM".encode("utf-8"), None, "BOM"),
    ("Grüße".encode("utf-8"), "no-such-charset", "Grüße"),  # unknown label is ignored
    ("Grüße".encode("utf-8"), "ascii", "GrÃ¼ÃŸe"),  # declared wins when it decodes (as browsers do)
])
def test_decode_html_tries_declared_then_meta_then_utf8_then_cp1252(raw, declared, expected):
    assert decode_html(raw, declared) == expected


@pytest.mark.parametrize("label, codec", [("ISO-8859-1", "cp1252"), (" 'UTF-8' ", "utf-8"), ("gb2312", "gb18030"),
                                          ("x-no-such", None), ("", None), (None, None)])
def test_charset_labels_mean_what_browsers_decode_them_with(label, codec):
    assert codec_name(label) == codec


@pytest.mark.parametrize("content_type, charset", [("text/html; charset=ISO-8859-1", "ISO-8859-1"),
                                                   ('text/html;charset="utf-8"', "utf-8"), ("text/html", None),
                                                   (None, None)])
def test_the_charset_of_an_http_content_type(content_type, charset):
    assert content_type_charset(content_type) == charset


def test_a_wrong_declaration_is_noted_and_a_right_one_is_not():
    raw = "Grüße aus Köln".encode("utf-8")
    assert decode_html_noted(raw, "utf-8") == ("Grüße aus Köln", None)
    text, note = decode_html_noted(b'<meta charset="utf-8"><p>' + "Grüße".encode("cp1252"))
    assert text.endswith("Grüße") and note == "<meta> charset utf-8 does not fit the body; decoded as cp1252 (fallback)"


def test_a_utf8_page_with_a_few_stray_latin1_bytes_stays_utf8_as_in_a_browser():
    # a real pattern (corpus: der-erfolg-gibt-recht.de): a UTF-8 page whose template holds an alt text in
    # Latin-1. Detection on the whole page guessed cp1006 and turned every "ö" into Arabic letters.
    story = "<p>So schön winterlich ist es wie schon lange nicht mehr. Grüße aus der Küche, für Sie.</p>" * 20
    raw = ('<html><head><meta charset="utf-8"></head><body>'.encode() + b'<img alt="K\xfcchenblogs">'
           + story.encode("utf-8") + b'<img alt="Hosting f\xfcr Profit"></body></html>')
    text, note = decode_html_noted(raw)
    assert story in text and 'alt="K\ufffdchenblogs"' in text
    assert note == "2 byte sequence(s) invalid in UTF-8 replaced (the rest of the page is UTF-8)"


def test_a_page_wholly_in_cp1252_under_a_utf8_label_is_still_read_as_cp1252():
    story = "<p>Grüße aus Köln, wo es schön ist und die Straßen voller Menschen sind.</p>" * 20
    text, note = decode_html_noted(b'<meta charset="utf-8">' + story.encode("cp1252"))
    assert story in text and "\ufffd" not in text and "does not fit the body" in note
