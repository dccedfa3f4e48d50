"""Bulk scoring: read inputs lazily, score batches in worker processes, write results in input order.

* Streaming: the main process only reads raw records (``readers.InputReader``: bytes and a few
  header fields) and writes results; decoding, parsing and scoring happen in the workers. At most
  ``2 * workers`` batches are in flight and each result is written as soon as every earlier one
  has been, so memory stays flat whatever the input size.
* Resumable: output is in input order and written per record, so the complete records of an
  output say how many input records are done. ``resume=True`` skips that many input records
  without decoding them (after checking that the last id written is that input record's id) and
  appends. Works after ``kill -9`` and for every format (see ``writers``).
* Failure isolation: a record that cannot be read or scored gets an output record with ``error``.
  A worker that dies (a crash in a parser, the OOM killer) takes its batches with it: they are
  scored again one record at a time in a fresh pool, and the record that kills a worker again
  gets an ``error``; the run goes on.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from threadpoolctl import threadpool_limits

from spamdetect.loading import ModelUnavailable, load_scorer
from spamdetect.pools import pool_context
from spamdetect.progress import progress_bar
from spamdetect.readers import InputReader, RawRecord, Record, expand_globs, no_such_input, output_file, output_is_input
from spamdetect.scorer import FARM, Scorer
from spamdetect.writers import open_writer, output_format, output_has_records, resume_point

BATCH_SIZE = 32  # records per task: big enough that per-task IPC is noise, small enough to keep workers even
MAX_BATCH_BYTES = 16 * 1024 * 1024  # ... and a byte bound, so a run of huge pages does not balloon memory
KILL_WAIT_SECONDS = 10.0  # how long a killed pool's manager thread may take to finish

_MODEL: Scorer | None = None  # one per worker process, loaded by the initializer


class CannotStart(Exception):
    """The run could not start (missing input, output in the way, resume mismatch, model): nothing was written."""


class RunStopped(Exception):
    """The run stopped part-way, by a signal (``signum``) or a failure (``__cause__``). The output holds
    ``summary.pages`` more complete records and is resumable."""

    def __init__(self, summary: "Summary", signum: int | None = None) -> None:
        super().__init__(f"stopped after {summary.pages} records")
        self.summary, self.signum = summary, signum


@dataclass
class Summary:
    """What one run did: records written (``pages``), of which errors and farms; ``skipped`` on
    resume; ``passed_over``: inputs read that are not pages, by kind (``InputReader.passed_over``)."""

    pages: int = 0
    errors: int = 0
    farms: int = 0
    seconds: float = 0.0
    skipped: int = 0
    passed_over: Counter[str] = field(default_factory=Counter)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def add(self, record: dict) -> None:
        self.pages += 1
        self.errors += record["error"] is not None
        self.farms += record["label"] == FARM

    def line(self) -> str:
        resumed = f"; resumed after {self.skipped} records already in the output" if self.skipped else ""
        return (f"scored {self.pages} pages: {self.farms} farms, {self.errors} errors, "
                f"{self.pages_per_second:.1f} pages/s, {self.seconds:.1f} s{resumed}{self._passed_over()}")

    def _passed_over(self, most: int = 4) -> str:
        """'; not pages, passed over: 3 WARC request, ...', largest kinds first; '' for none."""
        if not self.passed_over:
            return ""
        top = self.passed_over.most_common(most)
        kinds = [f"{n:,} {kind}" for kind, n in top]
        if len(self.passed_over) > most:
            kinds.append(f"{self.passed_over.total() - sum(n for _, n in top):,} of other kinds")
        return f"; not pages, passed over: {', '.join(kinds)}"


# ----- scoring a batch ------------------------------------------------------------------------

def score_records(model: Scorer, records: list[Record]) -> list[dict]:
    """Output records for a batch of input records, same order; unreadable ones carry their error."""
    pages = [r.page if r.error is None else None for r in records]
    try:
        results = model.score_pages(pages)
    except Exception:  # noqa: BLE001 -- something failed batch-wide: score one by one to isolate it
        results = [_score_one(model, p) for p in pages]
    return [_output(rec, res) for rec, res in zip(records, results)]


def _score_one(model: Scorer, page) -> dict:
    try:
        return model.score_pages([page])[0]
    except Exception as exc:  # noqa: BLE001
        return {"trust": None, "label": None, "reasons": [], "error": f"scoring failed: {type(exc).__name__}: {exc}"[:300]}


def _output(rec: Record, res: dict) -> dict:
    if rec.error is not None:
        res = {"trust": None, "label": None, "reasons": [], "error": rec.error}
    return {"id": rec.id, "url": rec.url, "trust": res["trust"], "label": res["label"],
            "reasons": res["reasons"], "error": res["error"]}


def _load(item: RawRecord | Record) -> Record:
    return item.load() if isinstance(item, RawRecord) else item


def score_batch(model: Scorer, items: list[RawRecord | Record]) -> list[dict]:
    """Load (decode, parse) and score a batch of raw or loaded records."""
    return score_records(model, [_load(i) for i in items])


def _init_worker(model: Scorer, main_pid: int) -> None:
    global _MODEL
    _MODEL = model
    threading.Thread(target=_exit_with, args=(main_pid,), daemon=True, name="exit-with-main").start()
    # Ctrl-C reaches the whole process group: the main process stops the run, workers stay quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One OpenMP thread per worker: the workers already fill the cores, and idle OpenMP threads
    # spinning between small predicts starve the other workers' Python code.
    threadpool_limits(1)


def _exit_with(main_pid: int) -> None:
    """End this worker once the main process is gone. After a ``kill -9`` of the main process nothing
    else would: idle workers wait on a queue whose write end they hold themselves (and they keep
    the fork server alive), so they would outlive the run and compete with the resumed one."""
    while True:
        time.sleep(1.0)
        if _gone(main_pid):
            os._exit(1)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # killed but not yet reaped by its parent: a zombie
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _in_worker(work: Callable[[Scorer, list], list], items: list) -> list:
    return work(_MODEL, items)


def _batches(items: Iterable[RawRecord | Record], size: int) -> Iterator[list]:
    batch, nbytes = [], 0
    for item in items:
        batch.append(item)
        nbytes += len(getattr(item, "data", b""))
        if len(batch) >= size or nbytes >= MAX_BATCH_BYTES:
            yield batch
            batch, nbytes = [], 0
    if batch:
        yield batch


# ----- the worker pool ------------------------------------------------------------------------

class Pool:
    """A process pool that can be killed and replaced (after a worker died, or on Ctrl-C)."""

    def __init__(self, model: Scorer, workers: int) -> None:
        self.model, self.workers = model, workers
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=pool_context(),
                                   initializer=_init_worker, initargs=(self.model, os.getpid()))

    def submit(self, batch: list, work: Callable[[Scorer, list], list] = score_batch) -> Future:
        """``work(model, batch)`` in a worker: by default scoring raw or loaded records (``score_batch``).
        ``work`` must be a module-level function, so that it is sent by name."""
        try:
            return self.executor.submit(_in_worker, work, batch)
        except BrokenProcessPool as exc:  # a worker died since the last result: handled like a failed batch
            failed: Future = Future()
            failed.set_exception(exc)
            return failed

    def kill(self) -> None:
        """Stop now: running batches are abandoned (the output is resumable), workers terminated."""
        # The executor's manager thread is waited for (quick once the workers are gone): if the
        # interpreter exits while it closes its wake-up pipe, Python 3.11's exit hook can write to
        # that pipe and print a "Bad file descriptor" traceback (a race CPython 3.12 fixed with a lock).
        manager = getattr(self.executor, "_executor_manager_thread", None)  # shutdown forgets it
        for proc in list((getattr(self.executor, "_processes", None) or {}).values()):
            proc.terminate()
        self.executor.shutdown(wait=False, cancel_futures=True)
        if manager is not None:
            manager.join(timeout=KILL_WAIT_SECONDS)

    def restart(self) -> None:
        self.kill()
        self.executor = self._start()

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def score_stream(model: Scorer, records: Iterable[RawRecord | Record], *, workers: int = 1,
                 batch_size: int = BATCH_SIZE) -> Iterator[dict]:
    """Scored output records in input order; scoring runs in ``workers`` processes (0: in this process)."""
    if workers <= 0:
        with threadpool_limits(1):  # see _init_worker
            for batch in _batches(records, batch_size):
                yield from score_batch(model, batch)
        return
    results = pooled(model, _batches(records, batch_size), workers)
    try:
        for batch_results in results:
            yield from batch_results
    finally:
        results.close()  # when this generator is closed early, the pool is killed now, not at collection


def pooled(model: Scorer, batches: Iterable[list], workers: int, work: Callable[[Scorer, list], list] = score_batch,
           lost: Callable[[Any, str], Any] | None = None) -> Iterator[list]:
    """``work(model, batch)`` for each non-empty batch, in order, run in ``workers`` processes with up
    to two batches per worker in flight. A batch whose results are in comes out as soon as it is the
    oldest, so an empty batch (the input is idle) lets them out without waiting for more input.
    Batches lost with a broken pool are redone item by item; an item that breaks the pool alone gets
    ``lost(item, why)`` (default: an output record with that error)."""
    lost = lost or _lost_record
    pool = Pool(model, workers)
    window: deque[tuple[list, Future]] = deque()  # the batches not yet yielded, oldest first
    sizes: deque[int] = deque()  # their lengths
    done: deque = deque()  # results in, for the oldest of them (whole batches: see _next_results)

    def oldest() -> list:
        n = sizes.popleft()
        while len(done) < n:
            done.extend(_next_results(pool, window, work, lost))
        return [done.popleft() for _ in range(n)]

    try:
        for batch in batches:
            if batch:
                sizes.append(len(batch))
                window.append((batch, pool.submit(batch, work)))
            while sizes and (len(sizes) >= 2 * workers or len(done) >= sizes[0] or window[0][1].done()):
                yield oldest()
        while sizes:
            yield oldest()
    except BaseException:  # Ctrl-C, SIGTERM, the consumer gave up (the generator is closed): do not wait
        pool.kill()
        raise
    pool.close()


def _next_results(pool: Pool, window: deque, work: Callable[[Scorer, list], list],
                  lost: Callable[[Any, str], Any]) -> Iterator:
    """The results of the oldest batch in ``window`` (``(items, future)`` pairs, oldest first), popped.
    When the pool broke, every batch in the window goes through ``work`` again one item at a time and
    all of their results come out, in order, with the window emptied; an item that breaks the pool
    alone gets ``lost(item, why)``."""
    batch, future = window[0]
    try:
        results = future.result()
    except Exception:  # noqa: BLE001 -- BrokenProcessPool (a worker died) or a batch that could not be sent
        # Every batch in flight is lost with the pool: score them again one record at a time, so
        # the record that kills a worker is found, gets an error, and takes nothing else with it.
        pending = [b for b, _ in window]
        window.clear()
        pool.restart()
        for dropped in pending:
            for item in dropped:
                yield _alone(pool, item, work, lost)
        return
    window.popleft()
    yield from results


def _alone(pool: Pool, item, work: Callable[[Scorer, list], list], lost: Callable[[Any, str], Any]):
    try:
        return pool.submit([item], work).result()[0]
    except Exception as exc:  # noqa: BLE001
        pool.restart()
        why = ("the worker process died while scoring this record (a crash or out of memory)"
               if isinstance(exc, BrokenProcessPool) else f"cannot score: {type(exc).__name__}: {exc}")
        return lost(item, why)


def _lost_record(item: RawRecord | Record, why: str) -> dict:
    rec = _load(item)
    return _output(Record(rec.id, rec.page, why, rec.source, rec.url), {})


# ----- a whole run: inputs to an output file --------------------------------------------------

def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _skip_done(raws: Iterator[RawRecord], output: str, fmt: str | None) -> int:
    """Skip the input records an earlier run already wrote to ``output``; check they are the same ones."""
    try:
        point = resume_point(output, fmt)
    except ValueError as exc:
        raise CannotStart(f"cannot resume: {exc}") from None
    last, n = None, 0
    for n, last in enumerate(islice(raws, point.done), 1):
        pass
    if n < point.done:
        raise CannotStart(f"cannot resume: {output} holds {point.done} records but the inputs have only {n}; "
                          "were they written from other inputs? (give the same inputs, or --overwrite)")
    if last is not None:
        last_id = last.load().id if last.kind == "jsonl" else last.id  # a JSONL line may name its own id
        if last_id != point.last_id:
            raise CannotStart(f"cannot resume: record {point.done} of {output} is {point.last_id!r} but input "
                              f"record {point.done} is {last_id!r}; the inputs differ from the run that wrote it "
                              "(give the same inputs in the same order, from the same directory, or --overwrite)")
    return point.done


class _Progress:
    """tqdm on stderr: % of input bytes and ETA when the total is known (files), else pages and rate."""

    def __init__(self, reader: InputReader, enabled: bool) -> None:
        self.reader, self.enabled, self.pages = reader, enabled, 0
        self.t0 = time.perf_counter()
        total = reader.total_bytes if enabled else None
        if not enabled:
            self.bar = None
        elif total:
            self.bar = progress_bar(desc="scoring", total=total, initial=reader.bytes_read(), unit="B",
                                    unit_scale=True, unit_divisor=1024,
                                    bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                                               "[{elapsed}<{remaining}{postfix}]")
        else:
            self.bar = progress_bar(desc="scoring", unit="page")
        self.by_bytes = bool(enabled and total)

    def update(self) -> None:
        self.pages += 1
        if self.bar is None:
            return
        if not self.by_bytes:
            self.bar.update(1)
        elif self.pages % 16 == 0:  # cheap: a tell() and a format every 16 pages
            self._refresh()

    def _refresh(self) -> None:
        rate = self.pages / max(time.perf_counter() - self.t0, 1e-9)
        self.bar.set_postfix_str(f"{self.pages} pages, {rate:.1f} pages/s", refresh=False)
        self.bar.update(self.reader.bytes_read() - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            if self.by_bytes:
                self._refresh()
            self.bar.close()
            self.bar = None


@contextmanager
def _signals_stop_the_run() -> Iterator[dict]:
    """SIGTERM and SIGINT raise KeyboardInterrupt in the main thread, so the run stops the same clean
    way for both; the signal number is kept for the exit status, and a second signal does not
    interrupt the clean-up (which takes well under a second)."""
    caught: dict = {}
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def handler(signum, frame):
        if not caught:
            caught["signum"] = signum
            raise KeyboardInterrupt

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def score_to_file(inputs: list[str], output: str, *, fmt: str | None = None, workers: int | None = None,
                  model_uri: str | None = None, progress: bool = True, resume: bool = False,
                  overwrite: bool = False, batch_size: int = BATCH_SIZE) -> Summary:
    """Score every record of ``inputs`` into ``output``; returns the run summary.

    Raises ``CannotStart`` when the run cannot begin (nothing is written) and ``RunStopped`` when it
    stops part-way (a signal, a failed write); the output is then resumable with ``resume=True``.
    """
    inputs = expand_globs(inputs)
    _check_arguments(inputs, output, fmt, resume, overwrite)
    summary = Summary()
    writer = stream = bar = None
    t0 = time.perf_counter()
    with _signals_stop_the_run() as caught:
        try:
            reader = InputReader(inputs, output=output_file(output))
            summary.passed_over = reader.passed_over  # filled as the reader goes
            raws = iter(reader)
            summary.skipped = _skip_done(raws, output, fmt) if resume else 0
            try:
                writer = open_writer(output, fmt, append=resume)  # before the model: an unwritable output fails fast
            except (OSError, ValueError) as exc:
                raise CannotStart(f"cannot write {output}: {exc}") from None
            first = next(raws, None)
            if first is None:  # nothing (left) to score: e.g. resuming a run that had finished
                writer.close()
                return summary
            raws = itertools.chain([first], raws)
            try:
                model = load_scorer(model_uri)
            except ModelUnavailable as exc:  # a bad path, an unknown MLflow URI, an incompatible file
                raise CannotStart(str(exc)) from None
            bar = _Progress(reader, progress)
            t0 = time.perf_counter()
            stream = score_stream(model, raws, workers=default_workers() if workers is None else workers,
                                  batch_size=batch_size)
            for rec in stream:
                writer.write(rec)
                summary.add(rec)
                bar.update()
            writer.close()
        except CannotStart:
            _stop(writer, stream, bar)
            raise
        except KeyboardInterrupt:
            _stop(writer, stream, bar)
            summary.seconds = time.perf_counter() - t0
            raise RunStopped(summary, caught.get("signum", signal.SIGINT)) from None
        except Exception as exc:  # a failed write (disk full), a reader bug: stop, keep what was written
            _stop(writer, stream, bar)
            summary.seconds = time.perf_counter() - t0
            raise RunStopped(summary) from exc
    bar.close()
    summary.seconds = time.perf_counter() - t0
    return summary


def _check_arguments(inputs: list[str], output: str, fmt: str | None, resume: bool, overwrite: bool) -> None:
    """Refuse up front what would fail later or lose data: a missing input (a typo should not cost an
    hour of scoring first), results that would be overwritten, a stdout that cannot be resumed."""
    missing = [p for p in inputs if p != "-" and not os.path.exists(p)]
    if missing:
        raise CannotStart(no_such_input(missing))
    if resume and overwrite:
        raise CannotStart("--resume and --overwrite contradict each other")
    if resume and output == "-":
        raise CannotStart("--resume needs an output file: stdout cannot be resumed")
    if output_is_input(output, inputs):
        where = "standard output is redirected to an input" if output == "-" else f"{output} is also an input"
        raise CannotStart(f"{where}: write the results to another file")
    try:
        output_format(output, fmt)
    except ValueError as exc:  # unknown or compressed output format
        raise CannotStart(str(exc)) from None
    if not resume and not overwrite and output_has_records(output, fmt):
        raise CannotStart(f"{output} already holds results: use --resume to continue that run, "
                          "or --overwrite to replace it")


def _stop(writer, stream, bar: _Progress | None) -> None:
    """Kill the workers, keep every complete record on disk, leave the output resumable."""
    try:
        if stream is not None:
            stream.close()
    finally:
        try:
            if writer is not None:
                writer.abort()
        except OSError:  # the rest cannot be written either (a full disk): the error that stopped the run
            pass         # is the one to report, and what reached the file resumes as after a kill
        finally:
            if bar is not None:
                bar.close()


def cli_main(args) -> int:
    """``spamdetect score``: 0 when every input record got an output record; 2 when the run could not
    start; 1 when it failed part-way; 128 + signal number when stopped by SIGINT/SIGTERM."""
    try:
        summary = score_to_file(args.inputs, args.output, fmt=args.format, workers=args.workers,
                                model_uri=args.model, progress=not args.quiet, resume=args.resume,
                                overwrite=args.overwrite)
    except CannotStart as exc:
        print(f"spamdetect score: {exc}", file=sys.stderr)
        return 2
    except RunStopped as exc:
        s = exc.summary
        counts = f"({s.pages} this run, {s.errors} errors, {s.farms} farms)"
        if args.output == "-" and isinstance(exc.__cause__, BrokenPipeError):  # | head: not a failure
            print(f"spamdetect score: stopped: the reader of stdout went away after {s.pages} records {counts}",
                  file=sys.stderr)
            raise exc.__cause__  # cli.main ends quietly with 141, as a shell reports a producer killed by SIGPIPE
        how = (f"stopped by {signal.Signals(exc.signum).name}" if exc.signum
               else f"failed: {type(exc.__cause__).__name__}: {exc.__cause__}")
        rest = ("the records up to there are on stdout, which cannot be resumed" if args.output == "-" else
                "the output is complete up to there: rerun with --resume to finish")
        print(f"spamdetect score: {how} after {s.skipped + s.pages} records in {args.output} {counts}; {rest}",
              file=sys.stderr)
        return 128 + exc.signum if exc.signum else 1
    print(summary.line(), file=sys.stderr)
    return 0
