"""The benchmark: its WARC builder, its process-tree memory sampler, and a whole small run logged to MLflow."""

from __future__ import annotations

import os
import sys

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from spamdetect import bench
from spamdetect.readers import read_inputs


@pytest.fixture
def tmp_store(tmp_path, monkeypatch):
    """Build dir and MLflow store in tmp_path, inherited by the benchmark's subprocesses."""
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("SPAMDETECT_BUILD", str(tmp_path / "build"))
    yield uri
    mlflow.set_tracking_uri(None)


def test_warc_builder_writes_records_the_reader_reads_back_with_distinct_urls(legit_records, tmp_path):
    sources = legit_records[:3]
    path = tmp_path / "crawl.warc.gz"
    info = bench.write_warc(path, bench.iter_corpus_pages(sources), max_pages=5, parts=2)

    records = list(read_inputs([str(path)]))
    assert info.pages == 5 and [r.error for r in records] == [None] * 5
    urls = [r.page.url for r in records]
    assert len(set(urls)) == 5  # repeats of a page get their own target URI
    assert urls[:3] == [s.url or f"https://{s.key.split('/')[0]}.corpus.invalid/{s.key}" for s in sources]
    assert urls[3].startswith(urls[0].split("#")[0]) and "bench-copy=1" in urls[3]
    # the original bytes are kept: realistic sizes
    assert info.html_bytes == sum(len(s.read_bytes()) for s in sources) + sum(len(s.read_bytes()) for s in sources[:2])
    parts = [list(read_inputs([p])) for p in info.parts]
    assert [len(p) for p in parts] == [3, 2]
    assert [r.page.url for p in parts for r in p] == urls


def test_memory_sampler_sees_a_grandchild_that_allocates_memory():
    allocate = "import time; x = bytearray(300_000_000); x[::4096] = b'1' * len(x[::4096]); time.sleep(1.0)"
    spawner = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {allocate!r}])"
    result, seconds, sampler = bench.measure([sys.executable, "-c", spawner], interval=0.05)
    assert result.returncode == 0
    assert sampler.peak >= 300_000_000
    assert len(sampler.process_peaks) >= 2 and max(sampler.process_peaks.values()) >= 300_000_000
    assert seconds >= 1.0 and len(sampler.series) >= 5


@pytest.mark.slow
def test_bench_run_measures_every_tool_and_logs_a_run(legit_records, tmp_store, capsys):
    assert bench.main(["--pages", "12", "--workers", "2", "--rounds", "2"]) == 0
    out = capsys.readouterr().out

    for tool in bench.TOOLS:
        for workers in (1, 2):
            line = next(ln for ln in out.splitlines() if ln.split()[:2] == [tool, str(workers)])
            assert "FAILED" not in line, line
    for name in ("ratio_spamdetect_vs_trafilatura", "ratio_spamdetect_vs_parse", "ratio_scaling_spamdetect"):
        assert name in out
    assert out.count("[PASS]") + out.count("[FAIL]") == 3

    client = MlflowClient(tmp_store)
    exp = client.get_experiment_by_name("spamdetect-bench")
    (run,) = client.search_runs([exp.experiment_id])
    assert run.info.run_name.startswith("bench-")
    assert run.data.params["pages"] == "12" and run.data.params["workers"] == "2" and run.data.params["rounds"] == "2"
    metrics = run.data.metrics
    assert metrics["pages_per_s_spamdetect_w2"] > 0 and metrics["peak_rss_mb_trafilatura_w1"] > 10
    assert metrics["errors_spamdetect_w2"] == 0
    # CPU is split between the main process and its workers, and no run used more than its cores' worth
    for name in ("spamdetect_w1", "spamdetect_w2", "parse_w2"):
        main, workers = metrics[f"cpu_ms_per_page_main_{name}"], metrics[f"cpu_ms_per_page_workers_{name}"]
        assert main > 0 and workers > 0
        assert (main + workers) * 12 / 1000 <= 1.1 * min(2, os.cpu_count()) * metrics[f"seconds_{name}"]
    assert "CPU per page (ms)" in out
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"bench_table.txt", "bench.json"} <= artifacts


def test_figures_are_the_median_round_and_a_failed_round_shows():
    crawl = bench.CrawlInfo("x.warc.gz", 100, 1_000_000, 50_000_000)

    def m(tool, workers, seconds, peak, ok=True):
        return bench.Measurement(tool, workers, 100, seconds, peak, ok=ok)

    runs = [m("parse", 1, 1.0, 10), m("parse", 1, 2.0, 30), m("parse", 1, 4.0, 20),
            m("spamdetect", 1, 5.0, 100), m("spamdetect", 1, 3.0, 100, ok=False), m("spamdetect", 1, 4.0, 100)]
    result = bench.BenchResult(crawl, runs, 1)
    assert result.rounds == 3
    assert result.row("parse", 1).seconds == 2.0  # 50 pages/s: the median of 25, 50 and 100
    assert result.spread("parse", 1) == (25.0, 100.0) and result.peak_rss("parse", 1) == 30
    assert not result.row("spamdetect", 1).ok  # one failed round fails the figure
    assert "FAILED" in result.table()


@pytest.mark.slow
def test_memory_run_scores_every_page_of_a_plain_warc_and_removes_it(legit_records, tmp_store, tmp_path):
    report = bench.memory_run(0.002, workers=1, directory=tmp_path / "mem", sources=legit_records[:20])

    assert report["ok"] and report["scored"] == report["pages"] >= 5
    assert report["warc_bytes"] >= 2_000_000 and 0 < report["peak_rss_mb"] < 1500
    assert not (tmp_path / "mem" / "memory-0.002gb.warc").exists()
    run = mlflow.get_run(report["run_id"])
    assert run.data.metrics["peak_rss_mb"] == pytest.approx(report["peak_rss_mb"])
