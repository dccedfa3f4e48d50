"""Worker pools start from a single-threaded fork server that has already imported the scoring code
(and nothing more: no scikit-learn)."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from pathlib import Path

from spamdetect.pools import pool_context


def _server_pid() -> int:
    return forkserver._forkserver._forkserver_pid  # no public accessor; the tests need the process


def test_fork_server_has_one_thread_and_the_scoring_code_loaded():
    ctx = pool_context()
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        worker = pool.submit(os.getpid).result()
    server = _server_pid()
    assert len(os.listdir(f"/proc/{server}/task")) == 1  # a fork copies one thread: the server must have one
    env = Path(f"/proc/{server}/environ").read_bytes().split(b"\0")
    assert b"OPENBLAS_NUM_THREADS=1" in env
    maps = Path(f"/proc/{server}/maps").read_text()
    assert "selectolax" in maps and "mmh3" in maps  # the parser and the text channel, imported once
    assert "_hist_gradient_boosting" not in maps  # scoring runs the numpy scorer: no scikit-learn to import
    assert worker != server


def test_the_callers_environment_is_left_as_it_was(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    pool_context()
    assert os.environ["OMP_NUM_THREADS"] == "7" and "OPENBLAS_NUM_THREADS" not in os.environ
