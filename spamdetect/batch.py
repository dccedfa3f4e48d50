"""Bulk scoring: read inputs lazily, score batches in worker processes, write results in input order.

Memory stays bounded: at most ``2 * workers`` batches are in flight, and each result is
written as soon as every earlier one has been.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice

from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from spamdetect.features import pool_context
from spamdetect.loading import load_model
from spamdetect.model import FARM, TrustModel
from spamdetect.readers import Record, read_inputs
from spamdetect.writers import open_writer

_MODEL: TrustModel | None = None  # one per worker process, loaded by the initializer


def _init_worker(model: TrustModel) -> None:
    global _MODEL
    _MODEL = model
    # One OpenMP thread per worker: the workers already fill the cores, and idle OpenMP threads
    # spinning between small predicts starve the other workers' Python code.
    threadpool_limits(1)


def score_records(model: TrustModel, records: list[Record]) -> list[dict]:
    """Output records for a batch of input records, same order; unreadable ones carry their error."""
    pages = [r.page if r.error is None else None for r in records]
    results = model.score_pages(pages)
    out = []
    for rec, res in zip(records, results):
        url = rec.page.url if rec.page is not None else None
        if rec.error is not None:
            res = {"trust": None, "label": None, "reasons": [], "error": rec.error}
        out.append({"id": rec.id, "url": url, "trust": res["trust"], "label": res["label"],
                    "reasons": res["reasons"], "error": res["error"]})
    return out


def _score_in_worker(records: list[Record]) -> list[dict]:
    return score_records(_MODEL, records)


def _batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(records)
    while batch := list(islice(it, size)):
        yield batch


@dataclass
class Summary:
    pages: int = 0
    errors: int = 0
    farms: int = 0
    seconds: float = 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (f"scored {self.pages} pages: {self.farms} farms, {self.errors} errors, "
                f"{self.pages_per_second:.1f} pages/s")


def score_stream(model: TrustModel, records: Iterable[Record], *, workers: int = 1,
                 batch_size: int = 32) -> Iterator[dict]:
    """Scored output records in input order; scoring runs in ``workers`` processes."""
    if workers <= 1:
        for batch in _batches(records, batch_size):
            yield from score_records(model, batch)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(), initializer=_init_worker,
                             initargs=(model,)) as pool:
        window: deque[Future] = deque()
        for batch in _batches(records, batch_size):
            window.append(pool.submit(_score_in_worker, batch))
            if len(window) >= 2 * workers:
                yield from window.popleft().result()
        while window:
            yield from window.popleft().result()


def score_to_file(inputs: list[str], output: str, *, fmt: str | None = None, workers: int | None = None,
                  model_uri: str | None = None, progress: bool = True) -> Summary:
    """Score every record of ``inputs`` into ``output``; returns the run summary."""
    model = load_model(model_uri)
    workers = workers or os.cpu_count() or 1
    summary = Summary()
    t0 = time.perf_counter()
    bar = tqdm(desc="scoring", unit="page", disable=not progress, file=sys.stderr, mininterval=1.0)
    with open_writer(output, fmt) as writer:
        for rec in score_stream(model, read_inputs(inputs), workers=workers):
            writer.write(rec)
            summary.pages += 1
            summary.errors += rec["error"] is not None
            summary.farms += rec["label"] == FARM
            bar.update(1)
    bar.close()
    summary.seconds = time.perf_counter() - t0
    return summary
