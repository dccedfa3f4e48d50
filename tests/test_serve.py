"""`spamdetect serve` for real: MLflow's scoring server in a subprocess on a loopback port,
real pages, a load test from a second process, bad requests, and a clean stop on SIGTERM.

No registry is configured (no $MLFLOW_TRACKING_URI), so the server packages and serves the
shipped model; the project's own tracking store is never touched.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from spamdetect.charsets import decode_html

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STARTUP_S = 240  # model packaging + MLflow's import + model load; minutes only on a machine under heavy load
GOOD_HTML = ("<html><head><title>Council approves school budget</title></head><body><article>"
             "<h1>Council approves school budget</h1><p>The city council approved the budget on Tuesday.</p>"
             "</article></body></html>")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "SPAMDETECT_MODEL")}


@pytest.fixture(scope="module")
def pages_file(legit_records, tmp_path_factory) -> Path:
    """Real corpus pages plus the team's farm samples (HTML and text), as a JSONL input with ids."""
    rows = [{"id": f"real-{i}", "url": r.url, "html": decode_html(r.read_bytes())}
            for i, r in enumerate(legit_records[:5])]
    sample = ROOT / "data" / "sample"
    rows.append({"id": "farm-html", "url": "https://best-viral-newz.top/a-story-2025/",
                 "html": (sample / "farm-rewrapped-story.html").read_text(encoding="utf-8")})
    rows.append({"id": "farm-text", "url": "https://best-viral-newz.top/text-dump/",
                 "text": (sample / "farm-text-dump.txt").read_text(encoding="utf-8")})
    path = tmp_path_factory.mktemp("pages") / "pages.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, pages_file):
    """A running `spamdetect serve` (2 workers, one per core); yields its base URL, process and the
    scores `spamdetect score` gave the same pages (computed while the server starts)."""
    tmp = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = _env()
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen([str(BIN / "spamdetect"), "serve", "--port", str(port), "--workers", "2"],
                            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    scores = tmp / "scores.jsonl"
    subprocess.run([str(BIN / "spamdetect"), "score", str(pages_file), "-o", str(scores), "--workers", "1",
                    "--quiet"], cwd=tmp, env=env, check=True, timeout=STARTUP_S)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + STARTUP_S
    while True:
        assert proc.poll() is None, f"server exited:\n{(tmp / 'server.log').read_text()[-3000:]}"
        try:
            if requests.get(url + "/ping", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.time() < deadline, f"no /ping after {STARTUP_S} s:\n{(tmp / 'server.log').read_text()[-3000:]}"
        time.sleep(0.3)
    expected = {r["id"]: r for r in map(json.loads, scores.read_text().splitlines())}
    yield {"url": url, "proc": proc, "expected": expected, "log": tmp / "server.log", "tmp": tmp}
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    log.close()


def _post(url: str, body, content_type: str = "application/json") -> requests.Response:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(url + "/invocations", data=data, headers={"Content-Type": content_type}, timeout=120)


def _still_serving(url: str) -> None:
    assert requests.get(url + "/ping", timeout=10).status_code == 200
    resp = _post(url, {"dataframe_records": [{"url": "https://herald.example/news/budget", "html": GOOD_HTML}]})
    assert resp.status_code == 200, resp.text[:500]
    (pred,) = resp.json()["predictions"]
    assert pred["error"] is None and 0 <= pred["trust"] <= 1


def test_served_scores_match_spamdetect_score_on_real_pages(server, pages_file):
    rows = [json.loads(line) for line in pages_file.read_text().splitlines()]
    resp = _post(server["url"], {"dataframe_records": rows})
    assert resp.status_code == 200, resp.text[:1000]
    preds = resp.json()["predictions"]
    assert [p["id"] for p in preds] == [r["id"] for r in rows]
    for pred in preds:
        want = server["expected"][pred["id"]]
        assert {k: pred[k] for k in ("url", "trust", "label", "reasons", "error")} == \
               {k: want[k] for k in ("url", "trust", "label", "reasons", "error")}, pred["id"]
    by_id = {p["id"]: p for p in preds}
    assert by_id["farm-html"]["label"] == "farm" and by_id["farm-text"]["label"] == "farm"
    assert all(by_id[f"real-{i}"]["error"] is None for i in range(5))


def test_load_test_from_a_second_process_has_no_errors_bounded_latency_and_flat_memory(server, tmp_path):
    out = tmp_path / "load.json"
    run = subprocess.run(
        [sys.executable, "-m", "spamdetect.loadtest", "--url", server["url"], "--clients", "8", "--requests", "200",
         "--timeout", "150", "--warmup", "8", "--pid", str(server["proc"].pid), "--max-p99", "30",
         "--max-rss-growth-mb", "300", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    summary = json.loads(out.read_text())
    print("load test:", run.stderr.strip().splitlines()[-1])
    assert summary["completed"] == 200 and summary["errors"] == 0
    assert summary["p99_ms"] < 30_000
    # The first pass over new pages grows the heap (~125 MB over two workers); after that it is flat.
    assert summary["rss_mb"]["growth"] < 300
    assert summary["rss_mb"]["growth_second_half"] < 80
    _still_serving(server["url"])


def _records(*rows) -> dict:
    return {"dataframe_records": list(rows)}


PNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
BAD_REQUESTS = {
    # name: (body, content type, expected status, fragment of the answer)
    "malformed JSON": ('{"dataframe_records": [{"url": "https://a.example/", "html": "<p>x', "application/json",
                       400, "valid JSON"),
    "not a dataframe format": ({"rows": [{"html": GOOD_HTML}]}, "application/json", 400, "dataframe_records"),
    "missing html and text": (_records({"url": "https://a.example/"}), "application/json", 400, "missing column"),
    "only unknown fields": (_records({"body": GOOD_HTML}), "application/json", 400, "no records to score"),
    "html is a number": (_records({"url": "https://a.example/", "html": 12345}), "application/json", 400,
                         "'html' must be a string"),
    "url is a list": (_records({"url": ["https://a.example/", "https://b.example/"], "html": GOOD_HTML}),
                      "application/json", 400, "'url' must be a string"),
    "crawl_date is a number": (_records({"html": GOOD_HTML, "crawl_date": 1700000000}), "application/json", 400,
                               "'crawl_date' must be a string"),
    "empty dataframe": (_records(), "application/json", 400, "no records to score"),
    "html is PNG bytes": (_records({"url": "https://a.example/logo.png", "html": PNG}), "application/json", 400,
                          "not HTML: a PNG image"),
    "html is base64 junk": (_records({"url": "https://a.example/x", "html": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=" * 20}),
                            "application/json", 400, "not HTML: no markup"),
    "text is binary": (_records({"url": "https://a.example/x", "text": "\x00\x01\x02\x03" * 100}),
                       "application/json", 400, "text is not text"),
    "a raw HTML body": (GOOD_HTML, "text/html", 415, "content types"),
    "too many records": (_records(*[{"html": GOOD_HTML}] * 1001), "application/json", 400, "too many records"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_request_gets_a_clear_4xx_and_the_server_keeps_serving(server, name):
    body, content_type, status, fragment = BAD_REQUESTS[name]
    resp = _post(server["url"], body, content_type)
    assert resp.status_code == status, resp.text[:500]
    assert fragment in resp.text, resp.text[:1000]
    _still_serving(server["url"])


def test_a_50_mb_request_is_refused_and_the_server_keeps_serving(server):
    page = "<html><body>" + "<p>filler words for a very long page</p>" * 2500 + "</body></html>"  # ~100 KB
    body = json.dumps(_records(*[{"url": f"https://a.example/{i}", "html": page} for i in range(500)]))
    assert len(body) > 50_000_000
    started = time.time()
    resp = _post(server["url"], body)
    assert resp.status_code == 400 and "request too large" in resp.text, resp.text[-500:]
    assert time.time() - started < 60  # refused before scoring, not after minutes of work
    _still_serving(server["url"])


def test_a_bad_row_in_a_batch_gets_an_error_and_the_rest_still_score(server):
    resp = _post(server["url"], _records({"id": "good", "url": "https://a.example/", "html": GOOD_HTML},
                                         {"id": "png", "url": "https://a.example/logo.png", "html": PNG},
                                         {"id": "empty", "url": "https://a.example/e", "text": ""}))
    assert resp.status_code == 200, resp.text[:500]
    good, png, empty = resp.json()["predictions"]
    assert good["error"] is None and good["label"] in {"farm", "trustworthy"}
    assert "not HTML" in png["error"] and png["trust"] is None and png["label"] is None
    assert empty["error"] and empty["trust"] is None


def test_sigterm_stops_the_server_and_its_workers(server):
    proc = server["proc"]
    tree = psutil.Process(proc.pid).children(recursive=True)
    assert any("uvicorn" in " ".join(p.cmdline()) for p in tree)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    gone, alive = psutil.wait_procs(tree, timeout=10)
    assert not alive, [p.pid for p in alive]
    assert "Application shutdown complete" in server["log"].read_text()


def test_a_model_that_is_not_there_is_reported_before_the_server_starts(tmp_path, monkeypatch, capsys):
    # the server is MLflow's CLI in a child process: without a check first, a typo in --model or an
    # unknown registry name surfaced as that child's traceback
    from spamdetect.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")  # a real, empty registry
    for model, why in [(str(tmp_path / "typo.joblib"), "no model file"),
                       ("models:/nosuch@champion", "name=nosuch not found")]:
        assert main(["serve", "--model", model, "--port", str(_free_port())]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.splitlines()[-1].startswith("spamdetect serve:") and why in err, err
