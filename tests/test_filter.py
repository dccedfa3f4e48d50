"""`spamdetect filter` as a real pipe stage (subprocesses) on real corpus pages plus the team's
sample records: every input record lands in exactly one output, unchanged apart from the added
fields; SIGPIPE and SIGTERM leave no traceback and consistent, prefix-ordered outputs."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spamdetect import filtering, readers
from spamdetect.charsets import decode_html

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CMD = [sys.executable, "-m", "spamdetect", "filter"]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def input_lines(legit_records) -> list[bytes]:
    """12 real pages, a farm page and a text-dump farm from data/sample, a record with neither html nor
    text, a cut-off JSON line and a JSON array: the kinds of lines a crawl pipe carries."""
    lines = []
    small = [r for r in legit_records if len(r.read_bytes()) < 150_000][:12]
    for i, rec in enumerate(small):
        lines.append({"id": f"real-{i}", "url": rec.url, "html": decode_html(rec.read_bytes()), "n": 1.50})
    lines.append({"id": "farm-html", "url": "https://best-viral-newz.top/x",
                  "html": (SAMPLE / "farm-rewrapped-story.html").read_text()})
    lines.append({"id": "farm-text", "text": (SAMPLE / "farm-text-dump.txt").read_text()})
    lines.append({"id": "empty", "url": "https://example.org/x"})
    out = [json.dumps(r).encode() + b"\n" for r in lines]
    return out + [b'{"id": "broken", "html": "<p>unterminated\n', b"[1, 2]\n"]


def _key(rec: dict) -> str:
    return rec.get("id") or f"line-{rec['line']}"


def _run(tmp_path, lines, *args, name="in.jsonl"):
    src = tmp_path / name
    src.write_bytes(b"".join(lines))
    rejected = tmp_path / f"rejected-{name}"
    proc = subprocess.run([*CMD, str(src), "--rejected", str(rejected), *args], capture_output=True, cwd=ROOT,
                          timeout=300)
    kept, rej = ([json.loads(x.decode("utf-8", "replace")) for x in out.splitlines()]  # the input's bytes, kept
                 for out in (proc.stdout, rejected.read_bytes()))
    return proc, kept, rej


@pytest.fixture(scope="module")
def default_run(input_lines, tmp_path_factory):
    return _run(tmp_path_factory.mktemp("filter"), input_lines)


def test_every_record_is_in_exactly_one_output_and_counts_add_up(input_lines, default_run):
    proc, kept, rej = default_run
    assert proc.returncode == 0, proc.stderr.decode()
    keys_in = [f"real-{i}" for i in range(12)] + ["farm-html", "farm-text", "empty", "line-16", "line-17"]
    kept_keys, rej_keys = [_key(r) for r in kept], [_key(r) for r in rej]
    assert not set(kept_keys) & set(rej_keys)
    assert sorted(kept_keys + rej_keys) == sorted(keys_in)
    # each output keeps input order
    assert kept_keys == [k for k in keys_in if k in kept_keys] and rej_keys == [k for k in keys_in if k in rej_keys]
    summary = proc.stderr.decode().strip().splitlines()[-1]
    farms = sum(r["error"] is None for r in rej if "error" in r) + sum("error" not in r for r in rej)
    assert summary.startswith(f"filter: in {len(keys_in)}, kept {len(kept)}, rejected {len(rej)} ({farms} farms, 3 errors")
    assert {"empty", "line-16", "line-17"} <= set(rej_keys)
    assert "farm-text" in rej_keys and len(kept) >= 10  # the blatant farm is caught, real pages pass


def test_kept_records_are_the_input_bytes_plus_trust_label_reasons(input_lines, default_run):
    _, kept, rej = default_run
    originals = {json.loads(x)["id"]: json.loads(x) for x in input_lines[:15]}
    for rec in kept:
        added = {k: rec.pop(k) for k in ("trust", "label", "reasons")}
        assert rec == originals[rec["id"]]  # unchanged, including the float 1.50 field
        assert 0 <= added["trust"] <= 1 and added["label"] == "trustworthy" and added["reasons"]
    broken = next(r for r in rej if r.get("line") == 16)
    assert broken["raw"] == '{"id": "broken", "html": "<p>unterminated' and broken["error"].startswith("bad JSON")
    assert next(r for r in rej if r.get("id") == "empty")["error"]


def test_threshold_moves_the_split(input_lines, tmp_path, default_run):
    proc, kept, rej = _run(tmp_path, input_lines, "--threshold", "0")
    assert proc.returncode == 0
    assert kept == [] and len(rej) == len(input_lines)  # P(farm) >= 0 always
    assert len(default_run[1]) > 0


def test_a_line_that_is_not_valid_utf8_is_scored_with_a_note_as_score_does(input_lines, tmp_path):
    # a producer that copied Latin-1 bytes into a JSON string: score reads such a line with U+FFFD,
    # and the filter must not reject as "bad JSON" a record that score scores
    real, farm = input_lines[0], input_lines[12]
    bad_real, bad_farm = (line[:-2] + b', "note": "caf\xe9"}\n' for line in (real, farm))
    proc, kept, rej = _run(tmp_path, [real, farm, bad_real, bad_farm])
    assert proc.returncode == 0, proc.stderr.decode()
    note = "note: the line is not valid UTF-8: undecodable bytes were replaced by U+FFFD"
    for recs, rid in ((kept, "real-0"), (rej, "farm-html")):
        assert [r["id"] for r in recs] == [rid, rid] and all(r.get("error") is None for r in recs)
        clean, bad = recs
        assert bad["trust"] == clean["trust"] and bad["reasons"] == [*clean["reasons"], note]
    # the kept line is the input's bytes, the bad byte included, with the fields appended
    assert proc.stdout.splitlines()[1].startswith(bad_real[:-2])


def test_json_that_no_output_can_hold_or_no_parser_can_read_costs_its_own_line_only(input_lines, tmp_path):
    deep = b'{"id": "deep", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"  # valid JSON, 100,000 levels
    torn = b'{"id": "torn\\ud83d", "html": "<p>' + b"A sentence of the story. " * 10 + b'</p>"}\n'  # a lone surrogate
    proc, kept, rej = _run(tmp_path, [input_lines[0], deep, torn])
    assert proc.returncode == 0, proc.stderr.decode()
    by_id = {r.get("id", f"line-{r.get('line')}"): r for r in kept + rej}  # an unread line is named by number
    assert sorted(by_id) == ["line-2", "real-0", "torn\ud83d"]
    assert by_id["line-2"]["error"].startswith("bad JSON: nested too deeply")
    assert by_id["torn\ud83d"]["trust"] is not None and "lone UTF-16 surrogates" in by_id["torn\ud83d"]["reasons"][-1]


def test_gzip_is_told_by_its_first_bytes_on_a_file_whatever_its_name_and_on_stdin(input_lines, tmp_path):
    # as score reads them: a crawl export gzipped under a plain name, a plain one under a .gz name,
    # or `curl ... | spamdetect filter` of a .jsonl.gz, each record once, none lost to a wrong guess
    lines = input_lines[:2]
    plain_named_gz, packed_named_plain = tmp_path / "plain.jsonl.gz", tmp_path / "packed.jsonl"
    plain_named_gz.write_bytes(b"".join(lines))
    packed_named_plain.write_bytes(gzip.compress(b"".join(lines)))
    rejected = tmp_path / "rejected.jsonl"
    proc = subprocess.run([*CMD, str(plain_named_gz), str(packed_named_plain), "-", "--rejected", str(rejected)],
                          input=gzip.compress(b"".join(lines)), capture_output=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    out = [json.loads(x) for x in proc.stdout.splitlines() + rejected.read_bytes().splitlines()]
    assert sorted(r["id"] for r in out) == ["real-0"] * 3 + ["real-1"] * 3
    assert all(r.get("error") is None for r in out) and "0 errors" in proc.stderr.decode()


def test_a_line_too_long_to_hold_is_rejected_unread_and_the_lines_after_it_go_on(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1024)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": "a"}\n' + b'{"id": "big", "html": "' + b"x" * 5000 + b'"}\n' + b'{"id": "b"}\n')
    got = [(line.lineno, line.raw, line.error) for line in filtering.iter_lines([str(src)])]
    assert got == [(1, b'{"id": "a"}\n', None), (2, None, "line 2 is longer than 1,024 bytes (5,026); not read"),
                   (3, b'{"id": "b"}\n', None)]


def test_workers_decide_as_one_process_does_and_a_line_that_kills_its_worker_costs_only_itself(input_lines,
                                                                                                shipped):
    from test_batch import CrashingScorer

    crash = json.dumps({"id": "crash", "html": "<title>CRASH</title><p>A page a parser dies on.</p>"}).encode() + b"\n"
    raws = input_lines[:5] + [crash] + input_lines[5:]
    lines = [filtering.Line("in.jsonl", i + 1, raw) for i, raw in enumerate(raws)]
    in_batches = [lines[i:i + 4] for i in range(0, len(lines), 4)]
    with_idle = [b for batch in in_batches for b in (batch, [])]  # the input goes idle after each batch
    here = [d for out in filtering.decided(shipped.scorer, iter(in_batches), workers=0) for d in out]
    pooled = [d for out in filtering.decided(CrashingScorer(shipped.scorer), iter(with_idle), workers=2) for d in out]
    assert len(pooled) == len(lines)
    assert pooled[:5] + pooled[6:] == here[:5] + here[6:]  # same kinds, same bytes, same order
    kind, data = pooled[5]
    assert kind == "error" and "worker process died" in json.loads(data)["error"]
    assert {k for k, _ in here} == {"kept", "farm", "error"}  # the lines cover all three outcomes


def test_reader_going_away_ends_quietly_with_141(input_lines, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(input_lines[:12] * 3))
    script = (f"{' '.join(CMD)} {src} --rejected {tmp_path / 'rej.jsonl'} --batch-size 1 | head -n 1 >/dev/null; "
              "echo status=${PIPESTATUS[0]}")
    proc = subprocess.run(["bash", "-c", script], capture_output=True, cwd=ROOT, timeout=300)
    err = proc.stderr.decode()
    assert "status=141" in proc.stdout.decode()
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err
    assert "stopped early: the reader of stdout went away" in err


def test_sigterm_finishes_the_batch_and_leaves_a_consistent_prefix(input_lines, tmp_path):
    rejected = tmp_path / "rej.jsonl"
    proc = subprocess.Popen([*CMD, "--rejected", str(rejected), "--batch-size", "2", "--max-wait", "0.1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    feed = [input_lines[0], input_lines[-1], input_lines[1], input_lines[2]]  # real, bad, real, real
    for line in feed[:3]:  # a slow producer: three records, then nothing more for now
        proc.stdin.write(line)
        proc.stdin.flush()
        time.sleep(0.05)
    first = proc.stdout.readline()  # the first record came through before the input ended
    assert first, proc.communicate(timeout=60)[1].decode()
    assert json.loads(first)["id"] == "real-0"
    proc.send_signal(signal.SIGTERM)
    try:
        proc.stdin.write(feed[3])
        proc.stdin.flush()
    except BrokenPipeError:
        pass
    out = proc.stdout.read()  # through readline's buffer: communicate() reads the pipe past what it holds
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err.decode()
    assert b"Traceback" not in err and b"Fatal Python error" not in err
    kept = [json.loads(first)] + [json.loads(x) for x in out.splitlines()]
    rej = [json.loads(x) for x in rejected.read_bytes().splitlines()]
    kept_ids, rej_keys = [r["id"] for r in kept], [r.get("id") or r["line"] for r in rej]
    assert rej_keys == [2]  # the bad line, decided once
    assert kept_ids in (["real-0"], ["real-0", "real-1"], ["real-0", "real-1", "real-2"])  # a prefix, no duplicates
    summary = err.decode().strip().splitlines()[-1]
    assert f"in {len(kept) + 1}, kept {len(kept)}, rejected 1" in summary and "SIGTERM" in summary


def test_rejected_records_go_gzipped_to_a_gz_name_and_a_name_for_another_compressor_is_refused(input_lines,
                                                                                               tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(input_lines[0] + input_lines[-2])  # a real page, a broken line
    rejected = tmp_path / "rejected.jsonl.gz"
    proc = subprocess.run([*CMD, str(src), "--rejected", str(rejected)], capture_output=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert [json.loads(x)["line"] for x in gzip.open(rejected)] == [2]
    # refused from the name alone, before the model is loaded (this one does not exist)
    xz = subprocess.run([*CMD, str(src), "--rejected", str(tmp_path / "rejected.jsonl.xz"),
                         "--model", str(tmp_path / "missing.joblib")], capture_output=True, cwd=ROOT, timeout=300)
    err = xz.stderr.decode()
    assert xz.returncode == 2 and err.count("\n") == 1 and "not with the compressor" in err
    assert not (tmp_path / "rejected.jsonl.xz").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_gzipped_rejected_file_reads_to_its_last_batch_after_kill_9(input_lines, tmp_path):
    rejected = tmp_path / "rejected.jsonl.gz"
    proc = subprocess.Popen([*CMD, "-", "--rejected", str(rejected), "--batch-size", "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        for _ in range(3):  # records with neither html nor text: rejected, one batch each
            proc.stdin.write(input_lines[14])
            proc.stdin.flush()
        deadline = time.monotonic() + 120
        while (not rejected.exists() or rejected.read_bytes().count(b"\x1f\x8b") < 3) and time.monotonic() < deadline:
            time.sleep(0.1)  # the model loads, then a member per batch
        proc.kill()  # SIGKILL: no close, no trailer written at exit
        proc.wait(timeout=60)
    finally:
        proc.kill()
    # the file is whole gzip to its last batch: every gzip reader reads it without a "file cut" error
    assert [json.loads(x)["id"] for x in gzip.decompress(rejected.read_bytes()).splitlines()] == ["empty"] * 3


def test_a_full_disk_stops_the_stage_in_one_line_with_exit_1(input_lines, tmp_path):
    """Every write to /dev/full fails with ENOSPC, as on a full disk, for stdout and for --rejected."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(input_lines[0] + input_lines[-2])  # a real page, a broken line: one kept, one rejected
    full = tmp_path / "rejected.jsonl.gz"
    full.symlink_to("/dev/full")
    with open("/dev/full", "wb") as stdout:
        runs = [subprocess.run([*CMD, str(src)], stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT, timeout=300)]
    runs.append(subprocess.run([*CMD, str(src), "--rejected", str(full)], capture_output=True, cwd=ROOT, timeout=300))
    for proc in runs:
        err = proc.stderr.decode()
        assert proc.returncode == 1 and err.count("\n") == 1 and "Traceback" not in err, err
        assert "in 0, kept 0, rejected 0" in err and "a write failed: No space left on device" in err


def test_an_output_that_is_also_an_input_or_cannot_be_opened_stops_before_reading(input_lines, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(input_lines[:2]))
    before = src.read_bytes()
    runs = {"rejected": subprocess.run([*CMD, str(src), "--rejected", str(src)], capture_output=True, cwd=ROOT)}
    with src.open("ab") as appended:  # `filter in.jsonl >> in.jsonl` would read its own output for ever
        runs["stdout"] = subprocess.run([*CMD, str(src)], stdout=appended, stderr=subprocess.PIPE, cwd=ROOT)
    runs["unwritable"] = subprocess.run([*CMD, str(src), "--rejected", str(tmp_path / "no" / "dir" / "r.jsonl")],
                                        capture_output=True, cwd=ROOT)
    assert src.read_bytes() == before  # untouched
    for name, proc in runs.items():
        err = proc.stderr.decode()
        assert proc.returncode == 2 and err.count("\n") == 1 and "Traceback" not in err, (name, err)
    assert "is also an input" in runs["rejected"].stderr.decode()
    assert "standard output is also an input" in runs["stdout"].stderr.decode()
    assert "cannot write" in runs["unwritable"].stderr.decode()
