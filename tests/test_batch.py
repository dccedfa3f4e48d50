"""Bulk scoring isolates failures per record: every input record gets exactly one output record, the run
goes on and exits 0; only a run that cannot proceed exits non-zero, with a one-line message."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from spamdetect.batch import Pool, score_stream, score_to_file
from spamdetect.cli import main as cli_main
from spamdetect.config import shipped_model_path
from spamdetect.page import Page
from spamdetect.readers import InputReader, Record

pytestmark = pytest.mark.skipif(not shipped_model_path().exists(), reason="no shipped model (make model)")

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20


def _page(title: str, words: int = 300) -> str:
    return f"<html><head><title>{title}</title></head><body><p>{'plain story text ' * words}</p></body></html>"


def _warc(path: Path, items: list[tuple[str, bytes, str]], gz: bool = True) -> None:
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        for url, body, ctype in items:
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                          warc_headers_dict={"WARC-Date": "2024-03-01T12:00:00Z"}))


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> Path:
    """One directory with every kind of bad input; the expected outcome of each is in the test."""
    d = tmp_path_factory.mktemp("bad")
    (d / "malformed.html").write_text('<html><head><title>Broken <b>page</title><body><div><p>Unclosed <table><tr>'
                                      '<td>cell<div></span></p>text & more <a href="x>link</html><<<>>>')
    (d / "wrong_charset.html").write_bytes(_page('Grüße aus Köln').replace(
        "<head>", '<head><meta charset="utf-8">').encode("cp1252"))
    (d / "no_charset.html").write_bytes(_page("Новости дня", 60).replace("plain story text", "погода в городе").encode("cp1251"))
    (d / "binary.html").write_bytes(PNG)
    huge = "<html><head><title>Huge page</title></head><body>" + "<p>lorem ipsum dolor sit amet</p>\n" * 900_000
    (d / "huge.html").write_text(huge)  # ~30 MB
    (d / "nested.html").write_text("<html><head><title>Deep</title></head><body>" + "<div>" * 100_000 + "deep"
                                   + "</div>" * 100_000 + "</body></html>")
    (d / "empty.html").write_bytes(b"")
    (d / "README.md").write_text("not an input: passed over, and the summary says so")
    (d / "lines.jsonl").write_text("\n".join([
        json.dumps({"id": "good", "url": "https://a.com/x", "html": _page("Fine")}),
        "{not json",
        json.dumps({"id": "nohtml", "url": "https://b.com/"}),
        # valid JSON, though no UTF-8 can hold a lone surrogate: a JavaScript string cut inside an emoji
        '{"id": "torn\\ud83d", "url": "https://c.com/\\udc80", "html": "<title>Cut \\ud83d</title><p>Text</p>"}',
    ]) + "\n")
    pages = [(f"https://e.com/{i}", _page(f"Page {i}").encode(), "text/html; charset=utf-8") for i in range(5)]
    spaced = ("https://e.com/news story", *pages[0][1:])  # warcio logs the space it percent-encodes
    _warc(d / "served.warc.gz", [spaced, ("https://e.com/logo", PNG, "text/html"), pages[1]])
    _warc(d / "cut.warc.gz", pages)
    data = (d / "cut.warc.gz").read_bytes()
    (d / "cut.warc.gz").write_bytes(data[: int(len(data) * 0.7)])  # cut inside the 4th of 5 gzip members
    _warc(d / "lies.warc", pages[:3], gz=False)
    raw = (d / "lies.warc").read_bytes()
    at = raw.index(b"Content-Length: ", raw.index(b"https://e.com/1"))
    eol = raw.index(b"\r\n", at)
    (d / "lies.warc").write_bytes(raw[:at + 16] + str(int(raw[at + 16:eol]) - 200).encode() + raw[eol:])
    return d


@pytest.fixture(scope="module")
def bad_run(bad_inputs, tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict[str, dict], int]:
    out = tmp_path_factory.mktemp("out") / "scores.jsonl"
    proc = subprocess.run([sys.executable, "-m", "spamdetect", "score", str(bad_inputs), "-o", str(out),
                           "--workers", "2", "-q"], capture_output=True, text=True, timeout=600)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_name = {r["id"].replace(str(bad_inputs) + "/", ""): r for r in rows}
    return proc, by_name, len(rows)


def test_the_run_exits_0_with_a_summary_line_and_nothing_else_on_stderr(bad_run):
    proc, _, n = bad_run
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr  # -q: no bar, no library warnings, no traceback
    (summary,) = [line for line in proc.stderr.splitlines() if line.startswith("scored")]
    assert f"scored {n} pages" in summary and "errors" in summary and "farms" in summary and "pages/s" in summary
    assert summary.endswith("; not pages, passed over: 1 other files in directories")


def test_every_input_record_gets_exactly_one_output_record(bad_run, bad_inputs):
    _, by_name, n = bad_run
    expected = len(list(InputReader([str(bad_inputs)])))
    assert n == len(by_name) == expected == 21


def test_bad_pages_are_scored_with_a_note_or_get_a_clear_error(bad_run):
    _, r, _ = bad_run
    assert r["malformed.html"]["error"] is None and r["malformed.html"]["trust"] is not None
    assert any("does not fit" in x for x in r["wrong_charset.html"]["reasons"])
    assert any("no charset declared" in x for x in r["no_charset.html"]["reasons"])
    assert "PNG image" in r["binary.html"]["error"] and r["binary.html"]["trust"] is None
    assert r["huge.html"]["error"] is None
    assert "note: html truncated to 2,000,000 of 30,600," in " ".join(r["huge.html"]["reasons"])
    assert any("nested more than" in x for x in r["nested.html"]["reasons"])
    assert "empty file" in r["empty.html"]["error"]


def test_bad_records_inside_jsonl_and_warc_files_get_errors_and_the_rest_is_scored(bad_run):
    _, r, _ = bad_run
    assert r["good"]["error"] is None and "bad JSON" in r["lines.jsonl:2"]["error"]
    assert "neither" in r["nohtml"]["error"]
    torn = r["torn\ufffd"]
    assert torn["error"] is None and torn["trust"] is not None and torn["url"] == "https://c.com/\ufffd"
    assert "note: lone UTF-16 surrogates" in torn["reasons"][-1] and "'id', 'url', 'html'" in torn["reasons"][-1]
    served = [v for k, v in r.items() if k.startswith("served.warc.gz:")]
    assert [x["error"] is None for x in served] == [True, False, True] and "PNG" in served[1]["error"]
    assert served[0]["url"] == "https://e.com/news%20story"
    cut = [v for k, v in r.items() if k.startswith("cut.warc.gz:")]
    assert [x["error"] is None for x in cut] == [True, True, True, False] and "truncated" in cut[-1]["error"]
    lies = [v for k, v in r.items() if k.startswith("lies.warc:")]
    assert [x["error"] is None for x in lies] == [True, False, True]  # the reader finds the next record again
    assert "Content-Length does not match" in lies[1]["error"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_lone_surrogate_in_a_json_line_is_written_in_every_output_format(tmp_path, suffix):
    import pandas as pd

    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a\\udfff", "html": "<p>x</p>"}\n' + json.dumps({"id": "b", "html": _page("B")}) + "\n")
    summary = score_to_file([str(path)], str(tmp_path / f"o{suffix}"), workers=0, progress=False)
    df = pd.read_csv(tmp_path / "o.csv") if suffix == ".csv" else pd.read_parquet(tmp_path / "o.parquet")
    assert summary.pages == 2 and list(df["id"]) == ["a\ufffd", "b"] and df["trust"].notna().all()


# ----- runs that cannot proceed ---------------------------------------------------------------

def _cli(capsys, *args: str) -> tuple[int, str]:
    status = cli_main(["score", *args, "-q"])
    return status, capsys.readouterr().err


def test_a_missing_input_stops_the_run_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    good = tmp_path / "a.html"
    good.write_text(_page("A"))
    status, err = _cli(capsys, str(good), str(tmp_path / "typo.warc.gz"), "-o", str(out))
    assert status == 2 and not out.exists()
    assert err.count("\n") == 1 and "no such input" in err and "typo.warc.gz" in err


def test_an_unwritable_output_stops_the_run_with_one_line(tmp_path, capsys):
    good = tmp_path / "a.html"
    good.write_text(_page("A"))
    status, err = _cli(capsys, str(good), "-o", str(tmp_path / "no" / "such" / "dir" / "out.jsonl"))
    assert status == 2 and err.count("\n") == 1 and "cannot write" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.csv"])
def test_a_full_disk_fails_the_run_in_one_line_with_exit_1(tmp_path, capsys, name):
    """Every write to /dev/full fails with ENOSPC, as on a full disk: the run stops with the error that
    stopped it, not with a traceback from the clean-up writing the rest into the same full disk."""
    page = tmp_path / "a.html"
    page.write_text(_page("A"))
    out = tmp_path / name
    out.symlink_to("/dev/full")
    status, err = _cli(capsys, str(page), "-o", str(out), "--workers", "0")
    assert status == 1 and err.count("\n") == 1, err
    assert "failed: OSError: [Errno 28] No space left on device" in err and "--resume" in err


def _limit_file_size(n: int):
    """A preexec_fn: writes past ``n`` bytes of a file fail with EFBIG, as a disk that fills up there."""
    import resource
    import signal

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the writer instead of failing the write
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    return apply


def test_a_write_failing_while_parquet_is_converted_keeps_the_journal_and_resume_finishes(tmp_path, capsys):
    """Parquet is written as a JSONL journal, converted at the end. When the conversion's write fails,
    the results must stay in the journal and --resume must finish the file without scoring again."""
    pages = []
    for name in "ABC":
        pages.append(tmp_path / f"{name}.html")
        pages[-1].write_text(_page(name))
    args = [str(p) for p in pages]
    assert _cli(capsys, *args, "-o", str(tmp_path / "ref.jsonl"), "--workers", "0")[0] == 0
    assert _cli(capsys, *args, "-o", str(tmp_path / "ref.parquet"), "--workers", "0")[0] == 0
    journal, parquet = (tmp_path / "ref.jsonl").stat().st_size, (tmp_path / "ref.parquet").stat().st_size
    assert journal < parquet  # few records: the Parquet metadata outweighs them, so a limit between fails only the conversion
    out = tmp_path / "out.parquet"
    proc = subprocess.run([sys.executable, "-m", "spamdetect", "score", *args, "-o", str(out), "--workers", "0", "-q"],
                          capture_output=True, text=True, timeout=300, preexec_fn=_limit_file_size((journal + parquet) // 2))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "File too large after 3 records" in proc.stderr and "--resume" in proc.stderr
    assert not out.exists() and (tmp_path / "out.parquet.partial.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()
    status, err = _cli(capsys, *args, "-o", str(out), "--workers", "0", "--resume")
    assert status == 0, err
    import pandas as pd

    assert pd.read_parquet(out).equals(pd.read_parquet(tmp_path / "ref.parquet"))
    assert sorted(p.name for p in tmp_path.glob("out.parquet*")) == ["out.parquet"]  # journal and .tmp gone


def test_an_existing_output_is_not_overwritten_without_overwrite(tmp_path, capsys):
    good = tmp_path / "a.html"
    good.write_text(_page("A"))
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "precious"}\n')
    status, err = _cli(capsys, str(good), "-o", str(out), "--workers", "0")
    assert status == 2 and "--resume" in err and "--overwrite" in err and "precious" in out.read_text()
    status, err = _cli(capsys, str(good), "-o", str(out), "--workers", "0", "--overwrite")
    assert status == 0 and json.loads(out.read_text())["id"] == str(good)


def test_resume_refuses_an_output_written_from_other_inputs(tmp_path, capsys):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    a.write_text(_page("A"))
    b.write_text(_page("B"))
    out = tmp_path / "out.jsonl"
    assert _cli(capsys, str(a), "-o", str(out), "--workers", "0")[0] == 0
    status, err = _cli(capsys, str(b), str(a), "-o", str(out), "--workers", "0", "--resume")
    assert status == 2 and "inputs differ" in err and out.read_text().count("\n") == 1


def test_an_output_that_is_also_an_input_is_refused_and_one_inside_an_input_directory_is_not_read(tmp_path, capsys):
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "html": _page("A")}) + "\n")
    # --overwrite would truncate the input before reading it: the run stops first, the input intact
    status, err = _cli(capsys, str(inp), "-o", str(tmp_path / "." / "in.jsonl"), "--workers", "0", "--overwrite")
    assert status == 2 and "in.jsonl is also an input" in err and json.loads(inp.read_text())["id"] == "a"
    # a JSONL output kept in the directory being scored: resumed or overwritten, it is never read as input
    out = tmp_path / "scores.jsonl"
    assert _cli(capsys, str(tmp_path), "-o", str(out), "--workers", "0")[0] == 0
    status, err = _cli(capsys, str(tmp_path), "-o", str(out), "--workers", "0", "--resume")
    assert status == 0 and "scored 0 pages" in err and "passed over: 1 this run's output file" in err
    assert _cli(capsys, str(tmp_path), "-o", str(out), "--workers", "0", "--overwrite")[0] == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a"]
    # stdout appended to an input would be read back as it grows; redirected into an input directory,
    # it is the run's output, not an input
    with inp.open("ab") as appended:
        proc = subprocess.run([sys.executable, "-m", "spamdetect", "score", str(inp), "-o", "-", "--workers", "0"],
                              stdout=appended, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 2 and "standard output is redirected to an input" in proc.stderr
    assert inp.read_text().count("\n") == 1
    out.unlink()
    with (tmp_path / "piped.jsonl").open("wb") as piped:
        proc = subprocess.run([sys.executable, "-m", "spamdetect", "score", str(tmp_path), "-o", "-", "--workers", "0"],
                              stdout=piped, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0 and "passed over: 1 this run's output file" in proc.stderr
    assert [json.loads(line)["id"] for line in (tmp_path / "piped.jsonl").read_text().splitlines()] == ["a"]


# ----- a worker that dies -----------------------------------------------------------------------

class CrashingScorer:
    """Scores like the real model but kills its worker process on pages titled 'CRASH' (a segfault
    in a parser, the OOM killer)."""

    def __init__(self, model) -> None:
        self.model = model

    def score_pages(self, pages):
        if any(p is not None and p.title == "CRASH" for p in pages):
            os._exit(139)
        return self.model.score_pages(pages)


def test_a_record_that_kills_its_worker_gets_an_error_and_the_run_goes_on(tmp_path):
    from spamdetect.loading import load_model

    path = tmp_path / "in.jsonl"
    titles = [f"Story {i}" for i in range(20)]
    titles[13] = "CRASH"
    path.write_text("\n".join(json.dumps({"id": t, "html": _page(t, 30)}) for t in titles) + "\n")
    out = list(score_stream(CrashingScorer(load_model(None)), InputReader([str(path)]), workers=1, batch_size=4))
    assert [r["id"] for r in out] == titles
    assert [r["id"] for r in out if r["error"]] == ["CRASH"]
    assert "worker process died" in out[13]["error"]
    assert all(r["trust"] is not None for i, r in enumerate(out) if i != 13)


def test_a_killed_pool_has_no_executor_thread_left_for_the_interpreters_exit_to_race_with(tmp_path):
    # Python 3.11's exit hook writes to the pool manager thread's wake-up pipe; if that thread is still
    # closing the pipe (after kill), `spamdetect filter ... | head` printed a "Bad file descriptor" traceback
    from spamdetect.loading import load_scorer

    pool = Pool(load_scorer(None), workers=2)
    records = [Record(f"r{i}", Page(html=_page(f"Story {i}", 30)), None, "test") for i in range(8)]
    futures = [pool.submit(records[i:i + 2]) for i in range(0, 8, 2)]
    futures[0].result()  # the workers are up and busy
    manager = pool.executor._executor_manager_thread
    pool.kill()
    assert not manager.is_alive()


# ----- progress ---------------------------------------------------------------------------------

def test_progress_shows_percent_and_pages_per_second_for_files(tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps({"id": str(i), "html": _page(f"P{i}", 20)}) for i in range(40)) + "\n")
    score_to_file([str(path)], str(tmp_path / "o.jsonl"), workers=0, progress=True)
    err = capsys.readouterr().err
    assert "100%" in err and "40 pages" in err and "pages/s" in err
