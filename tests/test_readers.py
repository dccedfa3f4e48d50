"""Input readers: every input becomes a record, unreadable parts become error records, never exceptions."""

from __future__ import annotations

import gzip
import io
import json
import random
import sys
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from spamdetect import readers
from spamdetect.config import corpus_dir
from spamdetect.readers import InputReader, Record, parse_json_line, read_inputs

SAMPLES = corpus_dir() / "commoncrawl-sample"
CC = SAMPLES / "CC-MAIN-2020-34-sample16.warc.gz"
CLUEWEB = SAMPLES / "clueweb-quirk.warc.gz"
needs_samples = pytest.mark.skipif(not CC.exists(), reason="commoncrawl-sample not found")

HTML = "<html><head><title>{t}</title></head><body><p>{t} body text.</p></body></html>"


def _records(*paths) -> list[Record]:
    return list(read_inputs([str(p) for p in paths]))


def _write_warc(path: Path, items: list[tuple], gz: bool = True) -> None:
    """items: (type, url, body bytes, content-type or None[, HTTP status line, default 200 OK])."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for rtype, url, body, ctype, *status in items:
            headers = {"WARC-Date": "2024-03-01T12:00:00Z"}
            if rtype == "response":
                http = StatusAndHeaders(status[0] if status else "200 OK", [("Content-Type", ctype)] if ctype else [],
                                        protocol="HTTP/1.1")
                rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                warc_headers_dict=headers)
            else:
                rec = writer.create_warc_record(url, rtype, payload=io.BytesIO(body),
                                                warc_content_type=ctype or "text/plain", warc_headers_dict=headers)
            writer.write_record(rec)


# ----- real WARC samples ----------------------------------------------------------------------

@needs_samples
def test_common_crawl_sample_yields_its_16_html_responses_with_url_and_crawl_date():
    recs = _records(CC)
    expected = [json.loads(x) for x in (SAMPLES / "records.jsonl").read_text().splitlines()]
    expected = [e for e in expected if e["warc"] == CC.name]
    assert len(recs) == 16 and all(r.error is None for r in recs)
    assert [r.page.url for r in recs] == [e["uri"] for e in expected]
    assert [r.page.crawl_date.strftime("%Y-%m-%dT%H:%M:%SZ") for r in recs] == [e["crawl_date"] for e in expected]
    assert all(r.id == f"{CC}:{r.id.rsplit(':', 1)[1]}" and r.source == str(CC) for r in recs)
    assert len({r.id for r in recs}) == 16


@needs_samples
def test_gbk_gb2312_and_cp1251_pages_decode_to_readable_titles():
    titles = {r.page.url: r.page.title for r in _records(CC)}
    assert "香港最快开奖现场直84期" in titles["http://041696.com/15477/list_6_4.html"]  # gbk via <meta>, no HTTP charset
    assert "三乡招聘" in titles["http://0760.jxtdw.com/area/sanxiang/"]  # HTTP charset=gb2312
    assert titles["http://01spb.ru/company/"].startswith("О компании")  # HTTP charset=windows-1251
    assert not any("\ufffd" in t for t in titles.values())


@needs_samples
def test_clueweb_sample_yields_29_euc_jp_pages_and_notes_its_broken_warc_date():
    recs = _records(CLUEWEB)
    assert len(recs) == 29 and all(r.error is None for r in recs)
    titles = [r.page.title for r in recs]
    assert all(titles) and not any("\ufffd" in t for t in titles)
    assert sum("ヘッドポーター" in t for t in titles) >= 25
    assert recs[0].page.crawl_date is None  # "2008-10-294T05:21:46-0700"
    assert any("WARC-Date" in n for n in recs[0].page.notes)


@needs_samples
def test_truncated_warc_gz_yields_complete_pages_then_one_error_and_the_next_file_continues(tmp_path):
    data = CC.read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) // 2])
    html = tmp_path / "after.html"
    html.write_text(HTML.format(t="After"), encoding="utf-8")
    recs = _records(cut, html)
    pages, errors = recs[:-2], recs[-2]
    assert len(pages) >= 5 and all(r.error is None for r in pages)
    assert errors.page is None and "truncated" in errors.error and errors.id.startswith(str(cut))
    assert recs[-1].page.title == "After"
    full = {r.page.url: r.page.html for r in _records(CC)}
    assert all(full[r.page.url] == r.page.html for r in pages)  # no page is silently short


@needs_samples
@pytest.mark.parametrize("fraction", [0.001, 0.13, 0.37, 0.61, 0.85, 0.999])
def test_any_cut_of_an_uncompressed_warc_ends_in_exactly_one_error(tmp_path, fraction):
    raw = gzip.decompress(CC.read_bytes())
    path = tmp_path / "cut.warc"
    path.write_bytes(raw[: int(len(raw) * fraction)])
    recs = _records(path)
    assert [r.error is not None for r in recs] == [False] * (len(recs) - 1) + [True]


# ----- WARC/WET files written here ------------------------------------------------------------

def test_wet_conversion_records_become_text_pages(tmp_path):
    path = tmp_path / "sample.warc.wet.gz"
    _write_warc(path, [
        ("conversion", "https://example.com/a", "Title A\nFirst paragraph of A.".encode(), "text/plain"),
        ("conversion", "https://example.org/b", "Titel B\nÄrger über Straßen.".encode(), "text/plain"),
    ])
    recs = _records(path)
    assert [r.page.url for r in recs] == ["https://example.com/a", "https://example.org/b"]
    assert all(not r.page.is_html and r.error is None for r in recs)
    assert recs[1].page.title == "Titel B" and "Straßen" in recs[1].page.text
    assert recs[0].page.crawl_date == datetime(2024, 3, 1, 12, tzinfo=timezone.utc)


def test_warc_skips_non_pages_keeps_html_and_detects_a_wrong_http_charset(tmp_path):
    path = tmp_path / "mixed.warc"
    latin = HTML.format(t="Grüße aus Köln").encode("cp1252")
    _write_warc(path, [
        ("response", "https://e.com/img.png", b"\x89PNG....", "image/png"),
        ("response", "https://e.com/page", HTML.format(t="Hello").encode(), "text/html; charset=utf-8"),
        ("metadata", "https://e.com/page", b"fetchTimeMs: 12", "application/warc-fields"),
        ("response", "https://e.com/bare", HTML.format(t="No type").encode(), None),
        ("response", "https://e.com/blob", b"\x00\x01 no type and not HTML", None),
        ("response", "https://e.com/old", HTML.format(t="Moved").encode(), "text/html", "301 Moved Permanently"),
        ("response", "https://e.com/gone", HTML.format(t="Not found").encode(), "text/html", "404 Not Found"),
        ("response", "https://e.com/odd", HTML.format(t="Odd status").encode(), "text/html", "2OO OK"),
        ("resource", "file:///site/archived.html", HTML.format(t="Archived").encode(), "text/html; charset=utf-8"),
        ("resource", "urn:pageinfo:https://e.com/page", b'{"pages": []}', "application/json"),
        ("response", "https://e.com/latin", latin, "text/html; charset=utf-8"),  # header lies
    ], gz=False)
    recs = _records(path)
    assert [r.page.url for r in recs] == ["https://e.com/page", "https://e.com/bare", "https://e.com/odd",
                                          "file:///site/archived.html", "https://e.com/latin"]
    assert recs[0].page.title == "Hello" and recs[1].page.title == "No type"
    assert recs[2].page.title == "Odd status"  # an unreadable status keeps the page
    assert recs[3].page.title == "Archived"  # an HTML file archived as a resource record is a page
    assert any("charset" in n for n in recs[4].page.notes)
    assert recs[4].page.title == "Grüße aus Köln"
    reader = InputReader([str(path)])
    assert len(list(reader)) == 5
    assert reader.passed_over == {"WARC warcinfo": 1, "WARC response image/png": 1, "WARC metadata": 1,
                                  "WARC response (no content type, not HTML)": 1,
                                  "WARC response status 301": 1, "WARC response status 404": 1,
                                  "WARC resource application/json": 1}


# ----- JSONL ----------------------------------------------------------------------------------

def _jsonl_lines() -> list[str]:
    return [
        json.dumps({"id": "p1", "url": "https://a.com/x", "html": HTML.format(t="One"),
                    "crawl_date": "2024-01-02T03:04:05Z"}),
        "{not json",
        json.dumps({"url": "https://b.com/y", "text": "Two\nSecond page text."}),
        "",
        json.dumps({"id": "p4", "url": "https://c.com/z"}),
        json.dumps([1, 2]),
        json.dumps({"text": "Five", "crawl_date": "yesterday-ish"}),
    ]


def test_jsonl_bad_lines_become_error_records_and_good_lines_pages(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(_jsonl_lines()) + "\n", encoding="utf-8")
    recs = _records(path)
    assert [r.id for r in recs] == ["p1", f"{path}:2", f"{path}:3", "p4", f"{path}:6", f"{path}:7"]
    assert [r.error is None for r in recs] == [True, False, True, False, False, True]
    assert "bad JSON" in recs[1].error and "neither" in recs[3].error and "object" in recs[4].error
    assert recs[3].url == "https://c.com/z" and recs[0].url == "https://a.com/x"  # error records keep the URL too
    assert recs[0].page.title == "One" and recs[0].page.crawl_date.year == 2024
    assert not recs[2].page.is_html and recs[2].page.title == "Two"
    assert recs[5].page.crawl_date is None and any("crawl_date" in n for n in recs[5].page.notes)


def test_jsonl_ids_must_be_scalars_and_lines_of_invalid_utf8_are_scored_with_a_note(tmp_path):
    page = "<p>" + "A sentence of the story. " * 10 + "</p>"
    lines = [json.dumps({"id": {"nested": 1}, "url": "https://a.com/1", "html": page}).encode(),
             json.dumps({"id": 7, "html": page}).encode(),
             json.dumps({"id": True, "html": page}).encode(),
             b'{"url": "https://a.com/4", "html": "<p>caf\xe9 \xff ' + b"word " * 20 + b'</p>"}']
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    recs = _records(path)
    assert [r.id for r in recs] == [f"{path}:1", "7", f"{path}:3", f"{path}:4"]  # not "{'nested': 1}" or "True"
    assert recs[0].error == "'id' must be a string or a number, got dict" and recs[0].url == "https://a.com/1"
    assert "got bool" in recs[2].error and recs[1].error is None
    assert recs[3].error is None and recs[3].url == "https://a.com/4" and "caf\ufffd" in recs[3].page.text
    assert recs[3].page.notes == ["the line is not valid UTF-8: undecodable bytes were replaced by U+FFFD"]


def test_lone_surrogate_escapes_in_a_json_line_are_replaced_and_noted_and_pairs_are_kept():
    row, error, notes = parse_json_line(b'{"id": "a\\ud800", "html": "<p>\\uDFFF x</p>", "ok": "\\ud83d\\ude00", "n": 1}')
    assert error is None and row == {"id": "a\ufffd", "html": "<p>\ufffd x</p>", "ok": "\U0001F600", "n": 1}
    assert notes == ["lone UTF-16 surrogates (\\ud800-\\udfff escapes, no character alone) in 'id', 'html' "
                     "were replaced by U+FFFD"]
    for clean in (b'{"ok": "\\ud83d\\ude00"}', b'{"text": "a literal \\\\ud800"}'):  # a pair; an escaped backslash
        row, error, notes = parse_json_line(clean)
        assert error is None and notes == [] and "\ufffd" not in json.dumps(row, ensure_ascii=False)


def test_json_nested_past_what_the_parser_reads_is_a_bad_line_not_a_crash():
    row, error, notes = parse_json_line(b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert row is None and error.startswith("bad JSON: nested too deeply") and notes == []


def test_a_jsonl_line_past_the_cap_is_an_error_record_and_the_lines_after_it_are_read(tmp_path, monkeypatch):
    # the cap keeps one runaway line (a base64 blob, a missing newline) from taking a streaming run's memory
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 64)
    monkeypatch.setattr(readers, "_CHUNK", 16)  # read past in chunks smaller than the line
    long = b'{"id": "big", "text": "' + b"y" * 300 + b'"}\n'
    stream = io.BytesIO(b'{"id": "a", "text": "A"}\n\n' + long + b'{"id": "b", "text": "B"}\n')
    assert list(readers.jsonl_lines(stream)) == [
        (1, b'{"id": "a", "text": "A"}\n', None),
        (3, None, f"line 3 is longer than 64 bytes ({len(long)}); not read"),
        (4, b'{"id": "b", "text": "B"}\n', None)]
    path = tmp_path / "in.jsonl"
    path.write_bytes(stream.getvalue())
    recs = _records(path)
    assert [(r.id, r.error) for r in recs] == [("a", None), (f"{path}:3", f"line 3 is longer than 64 bytes "
                                                                      f"({len(long)}); not read"), ("b", None)]


def test_truncated_jsonl_gz_keeps_read_lines_then_reports_the_cut(tmp_path):
    lines = [json.dumps({"id": f"r{i}", "text": f"Page {i}\n" + "word " * 200}) for i in range(200)]
    data = gzip.compress("\n".join(lines).encode())
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    recs = _records(path)
    assert recs[-1].error and "truncated" in recs[-1].error
    assert all(r.error is None for r in recs[:-1]) and len(recs) > 1


def test_dash_reads_jsonl_from_stdin(monkeypatch):
    data = "\n".join(_jsonl_lines()[:3]).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    recs = list(read_inputs(["-"]))
    assert [r.id for r in recs] == ["p1", "<stdin>:2", "<stdin>:3"] and recs[1].error


@pytest.mark.parametrize("gz", [True, False])
def test_dash_reads_a_warc_or_gzipped_jsonl_from_stdin_by_its_first_bytes(tmp_path, monkeypatch, gz):
    # `aws s3 cp s3://.../x.warc.gz - | spamdetect score -`: a pipe has no name to tell its format by
    warc = tmp_path / ("in.warc.gz" if gz else "in.warc")
    _write_warc(warc, [("response", f"https://e.com/{i}", HTML.format(t=f"Story {i}").encode(), "text/html")
                       for i in range(3)], gz=gz)
    jsonl = "\n".join(_jsonl_lines()[:3]).encode()
    for data, expected in ((warc.read_bytes(), _records(warc)),
                           (gzip.compress(jsonl) if gz else b"\r\n" + jsonl, None)):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        reader = InputReader(["-"])
        recs = [raw.load() for raw in reader]
        if expected is None:  # JSONL, compressed or after a blank line (which shifts the line numbers)
            assert [r.id for r in recs] == (["p1", "<stdin>:2", "<stdin>:3"] if gz else ["p1", "<stdin>:3", "<stdin>:4"])
        else:
            assert [r.page.title for r in recs] == [r.page.title for r in expected] == ["Story 0", "Story 1", "Story 2"]
            assert [r.id.replace("<stdin>", str(warc)) for r in recs] == [r.id for r in expected]
            assert [r.url for r in recs] == [r.url for r in expected] and reader.passed_over == {"WARC warcinfo": 1}


def test_a_warc_gzipped_as_a_whole_is_read_from_stdin_as_from_a_file(tmp_path, monkeypatch):
    # `gzip -c crawl.warc | spamdetect score -`: one gzip stream, not a member per record; warcio alone
    # read the first record and stopped, and seeking back in the pipe to check the tail failed
    plain = tmp_path / "in.warc"
    _write_warc(plain, [("response", f"https://e.com/{i}", HTML.format(t=f"Story {i}").encode(), "text/html")
                        for i in range(3)], gz=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole.read_bytes()[:-60])
    for path in (whole, cut):
        expected = _records(path)
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
        recs = list(read_inputs(["-"]))
        same = [(r.id.replace("<stdin>", str(path)), r.error and r.error.replace("<stdin>", str(path))) for r in recs]
        assert same == [(r.id, r.error) for r in expected]
    assert "truncated gzip stream" in recs[-1].error  # the cut is reported, not ended on quietly
    assert [r.page.title for r in _records(whole)] == ["Story 0", "Story 1", "Story 2"]


# ----- single files and directories -------------------------------------------------------------

def test_directory_is_read_recursively_in_sorted_order_with_known_suffixes_only(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.html").write_text(HTML.format(t="Z"), encoding="utf-8")
    (tmp_path / "a.htm").write_text(HTML.format(t="A"), encoding="utf-8")
    (tmp_path / "c.html.gz").write_bytes(gzip.compress(HTML.format(t="C").encode()))
    (tmp_path / "d.txt").write_text("Dump title\nSome text.", encoding="utf-8")
    (tmp_path / "e.xhtml").write_text(HTML.format(t="E"), encoding="utf-8")
    (tmp_path / "f.shtml").write_text(HTML.format(t="F"), encoding="utf-8")
    (tmp_path / "g.ndjson").write_text(json.dumps({"id": "g1", "html": HTML.format(t="G")}) + "\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# not an input", encoding="utf-8")
    recs = _records(tmp_path)
    assert [Path(r.id).name for r in recs] == ["a.htm", "z.html", "c.html.gz", "d.txt", "e.xhtml", "f.shtml", "g1"]
    assert [r.page.title for r in recs] == ["A", "Z", "C", "Dump title", "E", "F", "G"]
    assert not recs[3].page.is_html
    assert InputReader([str(tmp_path)]).passed_over == {"other files in directories": 1}
    # named again, by its path or inside its directory, a file is read once (as the Spark engine does)
    again = _records(tmp_path / "a.htm", tmp_path, tmp_path / "b" / ".." / "a.htm")
    assert [Path(r.id).name for r in again] == ["a.htm", "z.html", "c.html.gz", "d.txt", "e.xhtml", "f.shtml", "g1"]
    # or through a symbolic link, named or met in the walk
    (tmp_path / "zz-link.html").symlink_to(tmp_path / "b" / "z.html")
    assert [Path(r.id).name for r in _records(tmp_path / "b" / "z.html", tmp_path / "zz-link.html")] == ["z.html"]
    assert [Path(r.id).name for r in _records(tmp_path)] == [Path(r.id).name for r in recs]


def test_unreadable_inputs_become_error_records(tmp_path):
    bad_gz = tmp_path / "bad.html.gz"
    bad_gz.write_bytes(gzip.compress(HTML.format(t="x" * 5000).encode())[:40])
    odd = tmp_path / "data.bin"
    odd.write_bytes(b"\x00")
    recs = _records(tmp_path / "missing.html", bad_gz, odd)
    assert [r.page for r in recs] == [None, None, None]
    assert "no such file" in recs[0].error and "truncated" in recs[1].error and "unsupported" in recs[2].error
    # in a directory: a broken link is an error record under its own path, a link loop is not followed
    crawl = tmp_path / "crawl"
    (crawl / "sub").mkdir(parents=True)
    (crawl / "a.html").write_text(HTML.format(t="A"), encoding="utf-8")
    (crawl / "gone.html").symlink_to(tmp_path / "deleted.html")
    (crawl / "sub" / "loop").symlink_to(crawl)
    recs = _records(crawl)
    assert [Path(r.id).name for r in recs] == ["a.html", "gone.html"] and recs[0].error is None
    assert recs[1].error == f"no such file or directory: {crawl / 'gone.html'} (a broken symbolic link)"


def test_a_file_named_as_an_input_whose_name_says_nothing_is_read_by_its_first_bytes(tmp_path):
    # what crawlers and mirrors write: index.php, a page with PHP warnings before <html> (a corpus page
    # has 4.9 KB of them), a gzipped page named after its host, a WARC or JSONL under another suffix
    warnings = "<br />\n<b>Deprecated</b>: Assigning the return value of new by reference is deprecated<br />\n" * 60
    (tmp_path / "index.php").write_text(warnings + HTML.format(t="PHP"), encoding="utf-8")
    (tmp_path / "example.net.gz").write_bytes(gzip.compress(HTML.format(t="Host").encode()))
    (tmp_path / "misnamed.html.gz").write_text(HTML.format(t="Plain"), encoding="utf-8")  # not gzipped after all
    _write_warc(tmp_path / "crawl.dat", [("response", "https://a.example/", HTML.format(t="Warc").encode(), "text/html")])
    (tmp_path / "pages.json").write_text(json.dumps({"id": "j1", "html": HTML.format(t="Json")}) + "\n", encoding="utf-8")
    (tmp_path / "pages.dat").write_bytes(gzip.compress((json.dumps({"id": "j2", "text": "Title\nBody"}) + "\n").encode()))
    (tmp_path / "notes.md").write_text("# Notes\n<html> is mentioned here", encoding="utf-8")
    (tmp_path / "pretty.json").write_text('{\n  "a": 1\n}\n', encoding="utf-8")
    names = ["index.php", "example.net.gz", "misnamed.html.gz", "crawl.dat", "pages.json", "pages.dat", "notes.md",
             "pretty.json"]
    recs = _records(*(tmp_path / n for n in names))
    assert [r.page.title if r.page else r.error[:24] for r in recs] == [
        "PHP", "Host", "Plain", "Warc", "Json", "Title", "unsupported input type: ", "unsupported input type: "]
    # a directory walk keeps to the known suffixes: it does not open every file it finds
    assert [r.page.title for r in _records(tmp_path)] == ["Plain"]
    assert InputReader([str(tmp_path)]).passed_over == {"other files in directories": 7}


def test_single_html_file_is_decoded_by_its_meta_charset(tmp_path):
    path = tmp_path / "sjis.html"
    path.write_bytes('<html><head><meta charset="shift_jis"><title>東京のニュース</title></head></html>'.encode("cp932"))
    rec = _records(path)[0]
    assert rec.page.title == "東京のニュース" and rec.page.notes == []


def test_a_wrong_meta_charset_or_none_at_all_still_decodes_and_says_so(tmp_path):
    wrong = tmp_path / "wrong.html"
    wrong.write_bytes('<html><head><meta charset="utf-8"><title>Grüße aus Köln</title></head></html>'.encode("cp1252"))
    missing = tmp_path / "missing.html"
    body = "<p>" + "Новости дня, погода и многое другое в нашем городе. " * 10 + "</p>"
    missing.write_bytes(f"<html><head><title>Привет мир</title></head><body>{body}</body></html>".encode("cp1251"))
    w, m = _records(wrong, missing)
    assert w.page.title == "Grüße aus Köln" and "does not fit" in w.page.notes[0]
    assert m.page.title == "Привет мир" and "no charset declared" in m.page.notes[0]


def test_binary_bodies_are_error_records_not_scored_garbage(tmp_path):
    png = tmp_path / "image.html"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    warc = tmp_path / "served.warc"
    _write_warc(warc, [("response", "https://e.com/logo", png.read_bytes(), "text/html")], gz=False)
    recs = _records(png, warc)
    assert [r.page for r in recs] == [None, None]
    assert all("PNG image" in r.error for r in recs) and "text/html" in recs[1].error
    assert recs[1].url == "https://e.com/logo"  # an unreadable record still says which page it was


def test_encoded_bodies_are_decoded_and_undecodable_cut_or_empty_ones_say_so(tmp_path, capsys):
    import brotli

    page = HTML.format(t="Encoded").encode()
    big = ("<html><head><title>Cut</title></head><body>" + "<p>story text</p>" * 5000 + "</body></html>").encode()
    items = [  # url, body as stored, HTTP headers, WARC headers
        ("https://e.com/gzip", gzip.compress(page), [("Content-Encoding", "gzip")], {}),
        ("https://e.com/x-gzip", gzip.compress(page), [("Content-Encoding", "x-gzip")], {}),
        ("https://e.com/deflate", zlib.compress(page), [("Content-Encoding", "deflate")], {}),
        ("https://e.com/br", brotli.compress(page), [("Content-Encoding", "br")], {}),
        ("https://e.com/chunked", b"%x\r\n%s\r\n0\r\n\r\n" % (len(page), page), [("Transfer-Encoding", "chunked")], {}),
        ("https://e.com/zstd", b"(\xb5/\xfd\x00 compressed", [("Content-Encoding", "zstd")], {}),
        ("https://e.com/corrupt", b"\x1f\x8b\x08\x00garbage", [("Content-Encoding", "gzip")], {}),
        ("https://e.com/cut-gzip", gzip.compress(big)[:-100], [("Content-Encoding", "gzip")], {}),
        ("https://e.com/cut", big[:3000], [], {"WARC-Truncated": "length"}),
        ("https://e.com/empty", b"", [], {}),
        ("https://e.com/blank", b" \r\n\t ", [], {}),
    ]
    noisy = gzip.compress(b"<html><head><title>Noisy</title></head><body><p>%s</p>" % random.Random(1).randbytes(60_000).hex().encode())
    broken = noisy[:40_000] + bytes(100) + noisy[40_100:]  # readable for two 16 kB blocks, then not
    items.append(("https://e.com/broken", broken, [("Content-Encoding", "gzip")], {}))
    path = tmp_path / "encoded.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, http_headers, warc_headers in items:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), *http_headers], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                          warc_headers_dict=warc_headers))
    recs = {r.url.rsplit("/", 1)[1]: r for r in _records(path)}
    assert len(recs) == len(items) == 12
    for name in ("gzip", "x-gzip", "deflate", "br", "chunked"):
        assert recs[name].error is None and recs[name].page.title == "Encoded" and not recs[name].page.notes, name
    assert recs["zstd"].error == "the body is zstd-encoded (Content-Encoding), which the reader cannot decode"
    assert "gzip-encoded body decodes to nothing" in recs["corrupt"].error
    assert recs["cut-gzip"].page.title == "Cut" and recs["cut-gzip"].page.notes == [
        "the gzip-encoded body ends before its compressed data does: only its start was scored"]
    assert recs["cut"].page.title == "Cut" and recs["cut"].page.notes == [
        "the crawler cut the payload short (WARC-Truncated: length)"]
    assert recs["broken"].error.startswith("cannot decode the gzip-encoded body: Error -3")
    assert recs["empty"].error == "nothing to score: the response's body is empty"
    assert recs["blank"].error == "nothing to score: the response's body is only whitespace"
    assert capsys.readouterr().err == ""  # warcio's complaints about bad compressed data became errors


def test_arc_files_the_internet_archives_older_format_are_read_like_warcs(tmp_path):
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + HTML.format(t="From an ARC").encode()
    header = b"1 0 Internet Archive\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [b"filedesc://old.arc 0.0.0.0 20090101000000 text/plain %d\n%s\n" % (len(header), header),
               b"http://e.com/story 1.2.3.4 20090102030405 text/html %d\n%s\n" % (len(http), http)]
    (tmp_path / "old.arc").write_bytes(b"".join(records))
    (tmp_path / "old.arc.gz").write_bytes(b"".join(map(gzip.compress, records)))  # a gzip member per record
    reader = InputReader([str(tmp_path / "old.arc"), str(tmp_path / "old.arc.gz")])
    recs = [raw.load() for raw in reader]
    assert [r.page.title for r in recs] == ["From an ARC"] * 2
    assert all(r.url == "http://e.com/story" and r.page.crawl_date == datetime(2009, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
               for r in recs)
    assert reader.passed_over == {"WARC warcinfo": 2}  # the file header record, as warcio converts it


def test_a_warc_gzipped_as_a_whole_is_read_as_one_stream(tmp_path):
    plain = tmp_path / "crawl.warc"
    noise = [random.Random(i).randbytes(3000).hex().encode() for i in range(5)]  # so a cut lands mid-file
    _write_warc(plain, [("response", f"https://e.com/{i}", HTML.format(t=f"Page {i}").encode() + noise[i], "text/html")
                        for i in range(5)], gz=False)
    whole = gzip.compress(plain.read_bytes())  # what `gzip crawl.warc` makes: one member, not one per record
    (tmp_path / "whole.warc.gz").write_bytes(whole)
    (tmp_path / "cut.warc.gz").write_bytes(whole[: len(whole) * 6 // 10])
    expected = [(r.id.rsplit(":", 1)[1], r.page.title) for r in _records(plain)]
    assert [(r.id.rsplit(":", 1)[1], r.page.title) for r in _records(tmp_path / "whole.warc.gz")] == expected
    cut = _records(tmp_path / "cut.warc.gz")
    assert 1 <= len(cut) - 1 < 5 and all(r.error is None for r in cut[:-1]) and "truncated" in cut[-1].error
    assert [r.page.title for r in cut[:-1]] == [t for _, t in expected[: len(cut) - 1]]


def test_blank_inputs_are_errors_not_pages(tmp_path):
    blank = tmp_path / "blank.html"
    blank.write_text("  \n\n  ")
    lines = tmp_path / "in.jsonl"
    lines.write_text("\n".join(json.dumps(row) for row in [
        {"id": "empty", "html": ""}, {"id": "spaces", "text": " \n "},
        {"id": "fallback", "html": "", "text": "Title\nThe text of the page."}]))
    f, empty, spaces, fallback = _records(blank, lines)
    assert f.error == "nothing to score: the file holds only whitespace"
    assert empty.error == spaces.error == "nothing to score: the line's 'html' or 'text' is empty or only whitespace"
    assert fallback.error is None and fallback.page.title == "Title"  # a blank html gives way to the text


def test_a_huge_page_is_read_up_to_the_cap_and_says_how_much_was_there(tmp_path):
    path = tmp_path / "huge.warc.gz"
    body = ("<html><head><title>Huge</title></head><body>" + "<p>ünïcödé text</p>" * 400_000).encode()
    _write_warc(path, [("response", "https://e.com/huge", body, "text/html; charset=utf-8")])
    (rec,) = _records(path)
    assert rec.page.title == "Huge" and len(rec.page.html) <= 2_000_000
    assert rec.page.notes == [f"html truncated to 2,000,000 of {len(body):,} bytes"]
    assert "\ufffd" not in rec.page.html[-10:]  # the cut multibyte character is dropped, not mangled


def test_deeply_nested_markup_is_cut_where_it_gets_too_deep(tmp_path):
    path = tmp_path / "deep.html"
    path.write_text("<html><head><title>Deep</title></head><body>" + "<div>" * 100_000 + "x" + "</div>" * 100_000)
    (rec,) = _records(path)
    assert rec.page.title == "Deep" and "nested more than 4,096" in rec.page.notes[0]
    assert rec.page.html.count("<div>") == 4096


def test_raw_records_are_cheap_to_pickle_and_load_to_the_same_records(tmp_path):
    import pickle

    from spamdetect.readers import InputReader

    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(_jsonl_lines()) + "\n", encoding="utf-8")
    reader = InputReader([str(path)])
    raws = list(reader)
    assert reader.total_bytes == path.stat().st_size == reader.bytes_read()
    assert all(r.page is None or r.page.__dict__.get("tree") is None for r in map(lambda x: x.load(), raws))
    assert [r.load().id for r in pickle.loads(pickle.dumps(raws))] == [r.id for r in _records(path)]
