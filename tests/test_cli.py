"""The scoring CLI end to end on the sample crawl, with the model shipped in the package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from spamdetect.config import PROJECT_DIR, shipped_model_path

SAMPLE = PROJECT_DIR / "data" / "sample"
pytestmark = pytest.mark.skipif(not shipped_model_path().exists(), reason="no shipped model (make model)")


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spamdetect", *args], input=stdin, capture_output=True,
                          text=True, timeout=300)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def sample_scores(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("cli") / "scores.jsonl"
    proc = run_cli("score", str(SAMPLE), "-o", str(out), "--workers", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "scored" in proc.stderr and "pages/s" in proc.stderr
    return read_jsonl(out)


def by_id(records: list[dict], fragment: str) -> dict:
    (rec,) = [r for r in records if fragment in r["id"]]
    return rec


def test_every_sample_record_gets_exactly_one_output_record(sample_scores):
    ids = [r["id"] for r in sample_scores]
    assert len(ids) == len(set(ids))
    # 4 page files + 4 JSONL lines
    assert len(sample_scores) == 8
    for rec in sample_scores:
        assert set(rec) == {"id", "url", "trust", "label", "reasons", "error"}


def test_farm_samples_are_flagged_with_reasons(sample_scores):
    for fragment in ("farm-rewrapped-story.html", "farm-text-dump.txt"):
        rec = by_id(sample_scores, fragment)
        assert rec["error"] is None
        assert rec["label"] == "farm", rec
        assert rec["trust"] < 0.5
        assert rec["reasons"] and all(isinstance(r, str) for r in rec["reasons"])


def test_legit_samples_are_trustworthy(sample_scores):
    for fragment in ("local-paper-wire-story.html", "blog-post.html"):
        rec = by_id(sample_scores, fragment)
        assert rec["label"] == "trustworthy", rec
        assert rec["trust"] > 0.5


def test_bad_jsonl_records_yield_error_records_not_a_crash(sample_scores):
    errors = [r for r in sample_scores if r["error"]]
    assert len(errors) == 2  # the record without html/text and the broken JSON line
    for rec in errors:
        assert rec["trust"] is None and rec["label"] is None


def test_stdin_jsonl_to_stdout_keeps_input_order():
    lines = [json.dumps({"id": f"r{i}", "text": f"Page {i}\nSome text about item {i} that is long enough."})
             for i in range(5)]
    proc = run_cli("score", "-", "-o", "-", "--workers", "1", "-q", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r["id"] for r in out] == [f"r{i}" for i in range(5)]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_outputs_hold_the_same_records(tmp_path, fmt):
    out = tmp_path / f"scores.{fmt}"
    proc = run_cli("score", str(SAMPLE / "records.jsonl"), "-o", str(out), "--workers", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert len(df) == 4
    assert list(df.columns)[:6] == ["id", "url", "trust", "label", "reasons", "error"]


def test_real_warc_sample_scores_every_response_record(tmp_path):
    from spamdetect.config import corpus_dir

    warc = corpus_dir() / "commoncrawl-sample" / "CC-MAIN-2020-34-sample16.warc.gz"
    if not warc.exists():
        pytest.skip("shared corpus not available")
    out = tmp_path / "cc.jsonl"
    proc = run_cli("score", str(warc), "-o", str(out), "--workers", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    recs = read_jsonl(out)
    assert len(recs) == 16
    assert all(r["url"].startswith("http") for r in recs)


def test_explain_shows_every_signal_and_the_reasons():
    proc = run_cli("explain", str(SAMPLE / "farm-rewrapped-story.html"))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["label"] == "farm"
    assert "link_lists.n_unrelated" in report["features"] and "dates.stamp_year" in report["features"]
    assert report["contributions"] and report["reasons"]


def test_missing_input_file_stops_the_run_before_anything_is_written(tmp_path):
    out = tmp_path / "x.jsonl"
    proc = run_cli("score", str(tmp_path / "nope.html"), "-o", str(out), "-q")
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.count("\n") == 1 and "no such input" in proc.stderr


def test_quoted_globs_and_input_lists_name_the_same_pages_as_the_files_themselves(tmp_path):
    # a crawl of more files than a command line holds: a quoted glob, or a list file such as Common Crawl's
    # warc.paths.gz (gzipped, comments and blank lines skipped), read after the arguments
    import gzip

    pages = sorted(SAMPLE.glob("*.html"))
    listed = tmp_path / "paths.txt.gz"
    with gzip.open(listed, "wt") as fh:
        fh.write("# sample pages\n\n" + "".join(f"{p}\n" for p in pages[1:]))
    runs = {"files": [str(p) for p in pages], "glob": [str(SAMPLE / "*.html")], "recursive": [str(SAMPLE / "**" / "*.html")],
            "list": [str(pages[0]), "--inputs-from", str(listed)]}
    ids = {}
    for name, args in runs.items():
        out = tmp_path / f"{name}.jsonl"
        proc = run_cli("score", *args, "-o", str(out), "--workers", "0", "-q")
        assert proc.returncode == 0, proc.stderr
        ids[name] = [r["id"] for r in read_jsonl(out)]
    assert len(ids["files"]) == len(pages) == 3
    assert ids["glob"] == ids["recursive"] == ids["list"] == ids["files"]


@pytest.mark.parametrize("make, message", [
    (lambda d: [str(d / "nothing" / "*.html")], "no such input: "),
    (lambda d: ["--inputs-from", str(d / "nope.txt")], "cannot read the list of inputs "),
    (lambda d: ["--inputs-from", str(_write(d / "empty.txt", b"# none yet\n"))], "names none"),
    (lambda d: ["--inputs-from", str(_write(d / "bin.txt", b"\xff\xfe\x00WARC"))], "is not a list of paths"),
    (lambda d: ["--inputs-from", str(_write(d / "many.txt", "".join(f"x{i}.html\n" for i in range(5000)).encode()))],
     "x0.html, x1.html, x2.html, x3.html, x4.html and 4,995 more"),
])
def test_inputs_that_name_nothing_stop_the_run_in_one_line(tmp_path, make, message):
    out = tmp_path / "x.jsonl"
    proc = run_cli("score", *make(tmp_path), "-o", str(out), "-q")
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.timeout(240)
def test_parallel_scoring_after_in_process_scoring_does_not_hang(tmp_path):
    """A process that has already run the model (OpenMP threads alive) must still start workers safely."""
    from spamdetect.batch import score_to_file

    one = score_to_file([str(SAMPLE)], str(tmp_path / "w1.jsonl"), workers=1, progress=False)
    two = score_to_file([str(SAMPLE)], str(tmp_path / "w2.jsonl"), workers=2, progress=False)
    assert one.pages == two.pages == 8
    assert read_jsonl(tmp_path / "w1.jsonl") == read_jsonl(tmp_path / "w2.jsonl")


@pytest.mark.parametrize("args", [["score", "in.html", "-o", "out.jsonl", "--workers", "-1"],
                                  ["score", "in.html", "-o", "out.parquet", "--engine", "spark", "--files-per-job", "0"],
                                  ["train", "--workers", "0"],
                                  ["filter", "--batch-size", "0"],
                                  ["serve", "--timeout", "-5"],
                                  ["serve", "--port", "70000"],
                                  ["sites", "s.csv", "-o", "-", "--min-pages", "-3"],
                                  ["sites", "s.csv", "-o", "-", "--threshold", "7"],
                                  ["sites", "s.csv", "-o", "-", "--threshold", "0.5"],  # farm and legit could both pass
                                  ["sites", "s.csv", "-o", "-", "--block-confidence", "nan"],
                                  ["filter", "--threshold", "1.5"]])
def test_impossible_counts_are_refused_by_the_parser(args, capsys):
    from spamdetect.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and ("or more, got" in err or "or less, got" in err or "must lie in" in err), err


@pytest.mark.parametrize("command", [["explain", "PAGE"], ["score", "PAGE", "-o", "-", "--workers", "0", "-q"],
                                     ["filter", "JSONL"]])
def test_a_model_that_cannot_be_loaded_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, command):
    # a typo in --model, a file that is no model, a name the registry does not hold: each is the
    # user's to fix, so one line that names the model, not a traceback from joblib or MLflow
    from spamdetect.cli import main

    page = tmp_path / "page.html"
    page.write_text("<html><body><p>A page to score.</p></body></html>")
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"id": "a", "html": page.read_text()}) + "\n")
    monkeypatch.setattr(sys, "stdin", open(jsonl))
    args = [{"PAGE": str(page), "JSONL": str(jsonl)}.get(a, a) for a in command]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")  # a real, empty registry
    for model, why in [(str(tmp_path / "typo.joblib"), "no model file"), (str(page), "cannot load model"),
                       ("models:/nosuch@champion", "name=nosuch not found")]:
        assert main([*args, "--model", model]) == 2
        err = capsys.readouterr().err
        last = err.splitlines()[-1]  # before it, at most MLflow's notes on creating the empty store's tables
        assert "Traceback" not in err and why in last and model in last, err
        assert last.startswith(f"spamdetect {command[0]}:"), err


@pytest.mark.parametrize("command", [["score", "-", "-o", "-", "--workers", "1", "-q"], ["explain", "-"]])
def test_a_reader_of_stdout_that_goes_away_ends_the_run_quietly_with_141(tmp_path, command):
    # `spamdetect score ... -o - | head`: a closed pipe is how a pipeline says "enough", not a failure,
    # and --resume (the advice for failures) cannot apply to stdout
    lines = [json.dumps({"id": f"r{i}", "text": f"Page {i}\n" + "Some text about the item. " * 30})
             for i in range(400)]
    stdin = tmp_path / "in.jsonl"
    stdin.write_text("\n".join(lines) + "\n")
    with stdin.open("rb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "spamdetect", *command], stdin=fh, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout.readline()  # the first record came through
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "--resume" not in err and "Exception ignored" not in err


def test_train_without_corpus_pages_says_what_it_looked_for(tmp_path, capsys):
    # an empty --corpus folder, or manifests whose pages are missing, used to end in a StopIteration
    # traceback from the text vectoriser, after an empty corpus had been cached as if it were real
    from spamdetect.cli import main

    listed = tmp_path / "listed"
    (listed / "htmldate").mkdir(parents=True)
    (listed / "htmldate" / "pages.jsonl").write_text(json.dumps({"file": "gone.html.gz", "url": "https://a.example/"}) + "\n")
    for corpus in (tmp_path / "empty", listed):
        corpus.mkdir(exist_ok=True)
        assert main(["train", "--corpus", str(corpus), "--no-register", "--workers", "1"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"spamdetect train: no corpus pages under {corpus}") and err.count("\n") == 1, err


def test_train_on_too_few_pages_says_what_is_missing(legit_records, capsys):
    # --limit 1: one story, so no validation or test pages and one calibration fold: this ended in
    # scikit-learn's "Cannot have number of splits n_splits=5 greater than the number of groups: 1"
    from spamdetect.cli import main

    assert main(["train", "--limit", "1", "--no-register", "--workers", "1"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith("spamdetect train: too small a corpus to train on: --limit 1 real pages made"), err
    assert "calibration needs 5" in err and "(use --limit 50 or more)" in err
