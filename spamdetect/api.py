"""In-process scoring for ingestion workers: ``spamdetect.load()`` returns a ``Scorer``.

    import spamdetect
    scorer = spamdetect.load()                                   # once per worker process
    result = scorer.score(html=body, url=url)                    # one page
    for out in scorer.score_many(records):                       # dicts or readers.Record, same order
        ...

Each result has the fields of ``spamdetect score``: ``id, url, trust, label, reasons, error``.
A record that cannot be scored gets ``error`` set (trust and label null); nothing raises per record.

Cost (``python -m spamdetect.api [N]`` re-measures), shipped model, real corpus pages, this
project's shared 2-core machine under load from other jobs; CPU time is what a page costs,
wall time adds the neighbours: ``import spamdetect`` ~0.05 s (nothing heavy is imported);
``spamdetect.load()`` 3.2 s CPU in a fresh process (13 s wall on the loaded machine), mostly
importing scikit-learn and the signal code, ~0.5 s reading the model; then per real HTML page,
one ``score()`` at a time with reasons: median 23 ms CPU (47 ms wall), p90 34 ms, max 47 ms on
150 pages; ``score_many`` in batches of 32: 16 ms CPU per page. Text-only pages cost less.
Parsing and signals dominate; a page's cost grows with its HTML size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from itertools import islice

from spamdetect.model import TrustModel
from spamdetect.readers import Record, record_from_row


class Scorer:
    """A loaded trust model with the scoring calls an ingestion worker needs.

    ``threshold``: a page is labelled ``farm`` when ``P(farm) >= threshold``, i.e. when
    ``trust <= 1 - threshold`` (default: the model's own, chosen on validation data).
    ``source``: where the model came from (a file path or an MLflow URI).
    ``threads``: OpenMP/BLAS threads while scoring (default 1). The model's many small predicts
    (one per reason group) lose far more to waking threads than they gain: one thread costs a
    quarter of the CPU per page on this machine. Scale out with worker processes instead.
    """

    def __init__(self, model: TrustModel, *, threshold: float | None = None, source: str | None = None,
                 threads: int | None = 1):
        if threshold is not None:
            if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
                raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
            # a shallow copy shares the fitted pipeline; the threshold also picks the reasons' wording
            model = replace(model, threshold=float(threshold))
        self.model = model
        self.source = source
        self.threads = threads

    @property
    def threshold(self) -> float:
        return self.model.threshold

    def score(self, html: str | bytes | None = None, text: str | None = None, url: str | None = None,
              crawl_date: str | datetime | None = None, id: str | None = None) -> dict:  # noqa: A002 - the field name
        """Score one page given as ``html`` (str or bytes) or, failing that, extracted ``text``."""
        row = {"id": id, "url": url, "html": html, "text": text, "crawl_date": crawl_date}
        return next(self.score_many([row]))

    def score_many(self, records: Iterable[dict | Record], *, batch_size: int = 32) -> Iterator[dict]:
        """Score records lazily in batches of ``batch_size``; one result per record, in order.

        A dict carries ``html`` or ``text`` plus optional ``id``, ``url``, ``crawl_date`` (ISO
        string or datetime), like a JSONL line of ``spamdetect score``; a missing ``id`` becomes
        the record's position ("0", "1", ...). None, NaN and ``pd.NA`` all mean missing, so the
        rows of ``DataFrame.to_dict("records")`` can be given as they are. A ``readers.Record`` is
        used as read.
        """
        it = enumerate(records)
        while batch := list(islice(it, max(1, batch_size))):
            yield from self._score_batch([_as_record(row, i) for i, row in batch])

    def _score_batch(self, records: list[Record]) -> list[dict]:
        pages = [r.page if r.error is None else None for r in records]
        if self.threads is None:
            results = self.model.score_pages(pages)
        else:
            with _threadpools().limit(limits=self.threads):  # restored afterwards: the caller's own code keeps its threads
                results = self.model.score_pages(pages)
        out = []
        for rec, res in zip(records, results):
            if rec.error is not None:
                res = {"trust": None, "label": None, "reasons": [], "error": rec.error}
            out.append({"id": rec.id, "url": rec.url, "trust": res["trust"], "label": res["label"],
                        "reasons": res["reasons"], "error": res["error"]})
        return out

    def __repr__(self) -> str:
        return f"Scorer(source={self.source!r}, threshold={self.threshold:.4f})"


_CONTROLLER = None


def _threadpools():
    """One ``ThreadpoolController`` per process: finding the thread pools costs ~10 ms, limiting them ~0.05 ms."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def load(model: str | None = None, *, threshold: float | None = None) -> Scorer:
    """A ``Scorer`` for ``model`` (a ``.joblib`` file or MLflow URI); default as ``loading.load_model``:
    ``$SPAMDETECT_MODEL``, else ``models:/spamdetect@champion`` when ``$MLFLOW_TRACKING_URI`` is set
    and has it, else the shipped model."""
    from spamdetect.loading import load_model, resolve_model

    source = resolve_model(model)
    return Scorer(load_model(source), threshold=threshold, source=source)


def _as_record(row: dict | Record, index: int) -> Record:
    """A ``Record`` from a dict (never raises: a bad dict becomes a Record with ``error``)."""
    if isinstance(row, Record):
        return row
    if not isinstance(row, dict):
        return Record(str(index), None, f"expected a dict or Record, got {type(row).__name__}", "<api>")
    return record_from_row(row, str(index), "<api>", what="record")


def _measure(n: int | None = None) -> None:
    """Print load time and per-page latency on the real corpus pages (``python -m spamdetect.api [N]``).

    Reports CPU seconds beside wall seconds: on a shared machine wall time mostly measures the
    neighbours, while CPU time is what the page costs.
    """
    import statistics
    import subprocess
    import sys
    import time

    from spamdetect.corpus.legit import iter_manifest
    from spamdetect.charsets import decode_html

    code = ("import time,spamdetect;w=time.perf_counter();c=time.process_time();spamdetect.load();"
            "print(time.perf_counter()-w,time.process_time()-c)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    load_wall, load_cpu = map(float, run.stdout.split())
    scorer = load()
    pages = [{"id": r.key, "url": r.url, "html": decode_html(r.read_bytes())} for r in islice(iter_manifest(), n)]
    scorer.score(**pages[0])  # warm-up: the first call pays lazy imports
    wall, cpu = [], []
    for p in pages:
        w, c = time.perf_counter(), time.process_time()
        scorer.score(**p)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    c = time.process_time()
    for _ in scorer.score_many(pages):
        pass
    batched = (time.process_time() - c) / len(pages)

    def ms(xs: list[float]) -> str:
        q = statistics.quantiles(xs, n=10)
        return f"median {statistics.median(xs) * 1e3:.0f} ms, p90 {q[8] * 1e3:.0f} ms, max {max(xs) * 1e3:.0f} ms"

    print(f"load in a fresh process: {load_wall:.2f} s wall, {load_cpu:.2f} s CPU")
    print(f"{len(pages)} real HTML pages, one score() at a time: CPU {ms(cpu)}; wall {ms(wall)}")
    print(f"score_many, batches of 32: {batched * 1e3:.0f} ms CPU per page")


if __name__ == "__main__":
    import sys as _sys

    _measure(int(_sys.argv[1]) if len(_sys.argv) > 1 else None)
