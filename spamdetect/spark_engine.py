"""Score inputs on Apache Spark: one task per input file, committed in groups, resumable.

The driver expands the inputs into one row per file and scores them in groups of files, one
Spark job per group: in ``mapInPandas`` each task reads its file with ``readers.InputReader`` and
scores it with ``batch.score_records`` (the model is broadcast once; each Python worker unpickles
it once). Output is a directory of Parquet files with the local engine's record fields plus
``source`` (the input file of the record)::

    OUT/g00000-part-00000-....parquet   data of committed groups (any Parquet reader reads OUT)
    OUT/_done/g00000.json               commit record of group 0: its input files and data files
    OUT/_staging/g00001/                a group being written by Spark (hidden: '_' prefix)

Commit protocol (per group): Spark writes the group to ``_staging/gNNNNN`` (its own task commit
protocol keeps failed attempts out), the driver moves the data files into OUT, then writes
``_done/gNNNNN.json`` (written under a temporary name, then renamed): that file is the commit
point. A driver killed at any step loses at most the groups without a ``_done`` file;
``--resume`` deletes their leftovers, skips the committed input files and scores the rest, so a
file's records are in the output exactly once. Paths are Hadoop paths (local, hdfs://, s3a://, ...)
handled through Spark's own Hadoop FileSystem, so the same protocol holds on a cluster.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from spamdetect.batch import CannotStart, Summary, score_records
from spamdetect.readers import ALL_SUFFIXES, OTHER_FILES, InputReader, Record, expand_globs, input_files, no_such_input
from spamdetect.writers import COLUMNS, infer_format

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

OUTPUT_COLUMNS = (*COLUMNS, "source")
OUTPUT_SCHEMA = ("id string, url string, trust double, label string, reasons array<string>, "
                 "error string, source string")
INPUT_SCHEMA = "name string, location string"
BATCH_SIZE = 32  # records per score_records call, as in the local engine
DONE_DIR, STAGING_DIR = "_done", "_staging"


# ----- inputs -----------------------------------------------------------------------------

@dataclass(frozen=True)
class InputFile:
    """One input file: ``name`` is what ids and ``source`` say (as the local engine would), ``location``
    where executors open it (an absolute local path or a URI)."""

    name: str
    location: str


def _is_uri(path: str) -> bool:
    """A URI (s3a://, hdfs://, file://, ...) is listed and fetched with pyarrow.fs; anything else is a local path."""
    return "://" in path


def expand_inputs(paths: Iterable[str], passed_over: Counter[str] | None = None) -> list[InputFile]:
    """One entry per input file: directories are walked (sorted, known suffixes only, the others
    counted in ``passed_over`` as the local engine counts them), globs expanded.
    Like the local engine, a path that matches nothing is refused up front (a typo should not cost an
    hour of scoring first). The same file given twice is scored once."""
    out: list[InputFile] = []
    missing: list[str] = []
    passed_over = Counter() if passed_over is None else passed_over
    for arg in paths:
        if arg == "-":
            raise ValueError("the Spark engine cannot read stdin ('-'); give files or directories")
        found = _expand_uri(arg, passed_over) if _is_uri(arg) else _expand_local(arg, passed_over)
        if found is None:
            missing.append(arg)
        out.extend(found or [])
    if missing:
        raise FileNotFoundError(no_such_input(missing))
    seen: set[str] = set()  # a file named twice, or through a symbolic link, is read once
    keys = [f.location if _is_uri(f.location) else os.path.realpath(f.location) for f in out]
    return [f for f, key in zip(out, keys) if not (key in seen or seen.add(key))]


def _expand_local(arg: str, passed_over: Counter[str]) -> list[InputFile] | None:
    """Files of a local path or glob; None when nothing is there."""
    matches = expand_globs([arg])
    out = []
    for match in matches:
        path = Path(match)
        if path.is_dir():
            out.extend(InputFile(str(p), os.path.abspath(p)) for p in input_files(path, passed_over))
        elif path.exists():  # names as the local engine writes them in ids; location for the executors
            out.append(InputFile(str(path), os.path.abspath(path)))
    return out if all(os.path.exists(m) for m in matches) else None  # a glob matching nothing stays as given


def _expand_uri(uri: str, passed_over: Counter[str]) -> list[InputFile] | None:
    """Remote inputs are listed with pyarrow.fs (s3://, s3a://, gs://, hdfs://); None when nothing is there."""
    from pyarrow import fs as pafs

    uri = uri.rstrip("/")
    filesystem, path = pafs.FileSystem.from_uri(_arrow_uri(uri))
    prefix = uri[: len(uri) - len(path)] if uri.endswith(path) else uri.split("://", 1)[0] + "://"
    if glob.has_magic(path):
        base = path[: min(path.find(c) for c in "*?[" if c in path)].rsplit("/", 1)[0]
        infos = filesystem.get_file_info(pafs.FileSelector(base, recursive=True))
        found = sorted(i.path for i in infos if i.is_file and fnmatch.fnmatchcase(i.path, path))
    else:
        info = filesystem.get_file_info(path)
        if info.type == pafs.FileType.Directory:
            infos = [i for i in filesystem.get_file_info(pafs.FileSelector(path, recursive=True)) if i.is_file]
            found = sorted(i.path for i in infos if i.base_name.lower().endswith(ALL_SUFFIXES))
            if len(infos) > len(found):
                passed_over[OTHER_FILES] += len(infos) - len(found)
        elif info.type == pafs.FileType.File:
            found = [path]
        else:
            return None
    return [InputFile(prefix + p, prefix + p) for p in found] if found else None


def _arrow_uri(uri: str) -> str:
    """Hadoop's s3a:// and s3n:// are s3:// to pyarrow."""
    scheme, rest = uri.split("://", 1)
    return f"s3://{rest}" if scheme in ("s3a", "s3n") else uri


# ----- executor side ----------------------------------------------------------------------

_WORKER_MODELS: dict[str, object] = {}  # model key -> model, one per Python worker process


def _worker_model(broadcast, key: str):
    model = _WORKER_MODELS.get(key)
    if model is None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)  # one OpenMP thread per task slot: Spark already fills the cores
        _WORKER_MODELS.clear()  # a long-lived worker keeps only the current run's model
        model = _WORKER_MODELS[key] = pickle.loads(broadcast.value)
    return model


def _error_row(rid: str, url: str | None, message: str) -> dict:
    return {"id": rid, "url": url, "trust": None, "label": None, "reasons": [], "error": message[:500]}


def score_batch_safely(model, records: list[Record]) -> list[dict]:
    """``score_records``, but an exception costs only the record that raised it, never the task."""
    try:
        return score_records(model, records)
    except Exception:  # noqa: BLE001 -- retry one by one to find the record at fault
        pass
    out = []
    for rec in records:
        try:
            out.extend(score_records(model, [rec]))
        except Exception as exc:  # noqa: BLE001
            out.append(_error_row(rec.id, rec.url, f"scoring failed: {type(exc).__name__}: {exc}"))
    return out


def _staged(location: str, workdir: str) -> str:
    """A local path for ``location``: itself, or a copy of the remote file (suffix kept: it picks the reader)."""
    if not _is_uri(location):
        return location
    from pyarrow import fs as pafs

    filesystem, path = pafs.FileSystem.from_uri(_arrow_uri(location))
    local = os.path.join(workdir, os.path.basename(path) or "input")
    # compression=None: the bytes as stored (pyarrow would gunzip a .gz, and WARC offsets would change)
    with filesystem.open_input_stream(path, compression=None) as src, open(local, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return local


def _rename(rec: Record, local: str, name: str) -> Record:
    if local == name:
        return rec
    return Record(rec.id.replace(local, name, 1), rec.page,
                  rec.error.replace(local, name) if rec.error else None, name)


def score_file(model, item: InputFile, batch_size: int = BATCH_SIZE,
               passed_over: Counter[str] | None = None) -> Iterator[list[dict]]:
    """Scored output rows of one input file, in batches; every failure is a record's ``error``.
    What the reader passes over as not pages is added to ``passed_over``."""
    with tempfile.TemporaryDirectory(prefix="spamdetect-") as workdir:
        try:
            local = _staged(item.location, workdir)
        except Exception as exc:  # noqa: BLE001 -- remote file missing, no credentials, ...
            yield [{**_error_row(item.name, None, f"cannot read {item.name}: {type(exc).__name__}: {exc}"),
                    "source": item.name}]
            return
        reader = InputReader([local])
        records = (_rename(raw.load(), local, item.name) for raw in reader)
        done = 0
        try:
            while batch := list(islice(records, batch_size)):
                rows = score_batch_safely(model, batch)
                done += len(rows)
                yield [{**row, "source": item.name} for row in rows]
        except Exception as exc:  # noqa: BLE001 -- readers should not raise; if one does, say where
            yield [{**_error_row(f"{item.name}:after-{done}", None,
                                 f"reading {item.name} failed after {done} records: {type(exc).__name__}: {exc}"),
                    "source": item.name}]
        finally:
            if passed_over is not None:
                passed_over.update(reader.passed_over)


def _score_partitions(broadcast, key: str, passed_over):
    """The ``mapInPandas`` function: input rows (name, location) -> scored rows; ``key`` names the model,
    ``passed_over`` is the accumulator that sums what the readers passed over as not pages."""

    def score(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = _worker_model(broadcast, key)
        for frame in frames:
            for name, location in zip(frame["name"], frame["location"]):
                counts: Counter[str] = Counter()
                for rows in score_file(model, InputFile(name, location), passed_over=counts):
                    # object dtype keeps None as None (pandas 3 turns it into NaN in string columns)
                    yield pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in OUTPUT_COLUMNS})
                if counts:
                    passed_over.add(counts)

    return score


class _CountsParam:
    """Accumulator arithmetic for counts by kind. The scoring job is a single result stage (no
    shuffle), and Spark applies a result task's accumulator updates once, whatever the retries."""

    def zero(self, value: Counter[str]) -> Counter[str]:
        return Counter()

    def addInPlace(self, total: Counter[str], more: Counter[str]) -> Counter[str]:  # noqa: N802 -- Spark's name
        total.update(more)
        return total


# ----- output directory (Hadoop FileSystem, so local, HDFS and S3 behave alike) -----------

class OutputDir:
    """The output directory through Spark's Hadoop FileSystem API."""

    def __init__(self, spark: "SparkSession", uri: str) -> None:
        self._jvm = spark._jvm
        conf = spark._jsc.hadoopConfiguration()
        if "://" not in uri and not uri.startswith("/"):
            uri = os.path.abspath(uri)  # relative to this process, not to the JVM's working directory
        self.uri = uri.rstrip("/")
        self._root = self._jvm.org.apache.hadoop.fs.Path(self.uri)
        self._fs = self._root.getFileSystem(conf)

    def path(self, rel: str = ""):
        return self._jvm.org.apache.hadoop.fs.Path(f"{self.uri}/{rel}" if rel else self.uri)

    def uri_of(self, rel: str) -> str:
        return f"{self.uri}/{rel}"

    def exists(self, rel: str = "") -> bool:
        return self._fs.exists(self.path(rel))

    def is_dir(self, rel: str = "") -> bool:
        return self._fs.getFileStatus(self.path(rel)).isDirectory()

    def names(self, rel: str = "") -> list[str]:
        if not self.exists(rel):
            return []
        return sorted(st.getPath().getName() for st in self._fs.listStatus(self.path(rel)))

    def delete(self, rel: str) -> None:
        self._fs.delete(self.path(rel), True)

    def rename(self, src: str, dst: str) -> None:
        if not self._fs.rename(self.path(src), self.path(dst)):
            raise OSError(f"cannot move {self.uri_of(src)} to {self.uri_of(dst)}")

    def write_text(self, rel: str, text: str) -> None:
        """Write under a temporary name, then rename: readers see the whole file or none."""
        tmp = rel + ".tmp"
        stream = self._fs.create(self.path(tmp), True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        self.rename(tmp, rel)

    def read_text(self, rel: str) -> str:
        stream = self._fs.open(self.path(rel))
        try:
            return self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()


@dataclass
class RunResult:
    summary: Summary  # what this run scored
    files: int  # input files given
    skipped: int  # of which already committed by an earlier run (--resume)
    jobs: int  # groups committed by this run


def _group_id(name: str) -> int | None:
    """Group number of a data file ``g00003-part-...`` or commit record ``g00003.json``."""
    if name.startswith("g") and len(name) > 6 and name[1:6].isdigit():
        return int(name[1:6])
    return None


def recover(out: OutputDir) -> tuple[set[str], int, int, Counter[str]]:
    """Clean what a killed run left behind; return the committed input locations, the next group
    number, the number of records already committed and what their readers passed over."""
    if out.exists(STAGING_DIR):
        out.delete(STAGING_DIR)
    done: set[str] = set()
    committed: set[int] = set()
    pages = 0
    passed_over: Counter[str] = Counter()
    for name in out.names(DONE_DIR):
        gid = _group_id(name)
        if gid is None or not name.endswith(".json"):
            out.delete(f"{DONE_DIR}/{name}")  # a commit record cut before its rename
            continue
        record = json.loads(out.read_text(f"{DONE_DIR}/{name}"))
        committed.add(gid)
        pages += record["pages"]
        passed_over.update(record.get("passed_over", {}))  # absent from records of older versions
        done.update(item["location"] for item in record["inputs"])
    for name in out.names():
        gid = _group_id(name)
        if gid is not None and gid not in committed:  # data moved in by a run killed before its commit
            out.delete(name)
    return done, max(committed, default=-1) + 1, pages, passed_over


def _count(spark: "SparkSession", uri: str) -> tuple[int, int, int]:
    from pyspark.sql import functions as F

    row = spark.read.schema(OUTPUT_SCHEMA).parquet(uri).agg(  # schema given: a group may have no rows
        F.count(F.lit(1)).alias("pages"),
        F.count("error").alias("errors"),
        F.sum((F.col("label") == "farm").cast("int")).alias("farms"),
    ).first()
    return int(row["pages"]), int(row["errors"]), int(row["farms"] or 0)


def _commit_group(spark: "SparkSession", out: OutputDir, gid: int, chunk: list[InputFile], model) -> dict:
    tag = f"g{gid:05d}"
    staging = f"{STAGING_DIR}/{tag}"
    rows = [(f.name, f.location) for f in chunk]
    frame = spark.sparkContext.parallelize(rows, len(rows)).toDF(INPUT_SCHEMA)  # one task per file
    passed_over = spark.sparkContext.accumulator(Counter(), _CountsParam())
    scored = frame.mapInPandas(_score_partitions(*model, passed_over), OUTPUT_SCHEMA)
    scored.write.mode("overwrite").parquet(out.uri_of(staging))
    pages, errors, farms = _count(spark, out.uri_of(staging))
    data = [n for n in out.names(staging) if n.endswith(".parquet") and not n.startswith(("_", "."))]
    for name in data:
        out.rename(f"{staging}/{name}", f"{tag}-{name}")
    record = {"group": gid, "inputs": [{"name": f.name, "location": f.location} for f in chunk],
              "files": [f"{tag}-{n}" for n in data], "pages": pages, "errors": errors, "farms": farms,
              "passed_over": dict(passed_over.value),
              "committed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    out.write_text(f"{DONE_DIR}/{tag}.json", json.dumps(record, indent=1))  # the commit point
    out.delete(staging)
    return record


def run(spark: "SparkSession", inputs: list[str] | list[InputFile], output: str, *, model_uri: str | None = None,
        resume: bool = False, overwrite: bool = False, files_per_job: int | None = None,
        progress: bool = True, listed: Counter[str] | None = None) -> RunResult:
    """Score ``inputs`` (paths, or files from ``expand_inputs``) into the Parquet directory ``output``.
    ``listed``: what ``expand_inputs`` passed over when the caller expanded ``inputs`` itself.

    With ``resume``, continue a run that was stopped or killed (or extend it with more inputs):
    committed input files are skipped. Raises ``CannotStart`` before anything is written when the
    run cannot begin; a failure part-way leaves every committed job in place, resumable.
    """
    from spamdetect.loading import ModelUnavailable, load_scorer

    t0 = time.perf_counter()
    if resume and overwrite:
        raise CannotStart("--resume and --overwrite contradict each other")
    try:
        listed = Counter() if listed is None else listed
        files = list(inputs) if all(isinstance(f, InputFile) for f in inputs) else expand_inputs(inputs, listed)
    except (ValueError, OSError) as exc:
        raise CannotStart(str(exc)) from None
    if not files:
        raise CannotStart("no input files")
    try:
        model = load_scorer(model_uri)  # resolved once, on the driver (a models:/ URI is looked up here)
    except ModelUnavailable as exc:  # a bad path, an unknown MLflow URI, an incompatible file
        raise CannotStart(str(exc)) from None
    out = OutputDir(spark, output)
    done: set[str] = set()
    next_gid, skipped_pages = 0, 0
    committed_over: Counter[str] = Counter()
    if out.exists():
        if not out.is_dir():
            raise CannotStart(f"{output} is a file; the Spark engine writes a directory of Parquet files")
        if overwrite:
            out.delete("")
        elif not resume:
            raise CannotStart(f"{output} already holds results: use --resume to continue that run, "
                              "or --overwrite to replace it")
        else:
            done, next_gid, skipped_pages, committed_over = recover(out)
            if out.exists("_SUCCESS"):
                out.delete("_SUCCESS")
    todo = [f for f in files if f.location not in done]
    # as the local engine, which reads every input again on resume, counts over the whole input
    summary = Summary(skipped=skipped_pages, passed_over=Counter(listed) + committed_over)
    jobs = 0
    if todo:
        per_job = files_per_job or max(1, 2 * spark.sparkContext.defaultParallelism)
        broadcast = spark.sparkContext.broadcast(pickle.dumps(model))
        key = uuid.uuid4().hex
        groups = [todo[i:i + per_job] for i in range(0, len(todo), per_job)]
        try:
            for k, chunk in enumerate(groups):
                record = _commit_group(spark, out, next_gid + k, chunk, (broadcast, key))
                jobs += 1
                summary.pages += record["pages"]
                summary.errors += record["errors"]
                summary.farms += record["farms"]
                summary.passed_over.update(record["passed_over"])
                if progress:
                    print(f"spark: job {k + 1}/{len(groups)} committed: {len(chunk)} files, {record['pages']} "
                          f"pages ({time.perf_counter() - t0:.0f}s)", file=sys.stderr, flush=True)
        finally:
            broadcast.destroy()
    if out.exists(STAGING_DIR):
        out.delete(STAGING_DIR)
    out.write_text("_SUCCESS", "")  # every input file is committed
    summary.seconds = time.perf_counter() - t0
    return RunResult(summary, len(files), len(files) - len(todo), jobs)


# ----- session and command line -----------------------------------------------------------

LOG_CONFIG = Path(__file__).resolve().parent / "data" / "spark-log4j2.properties"  # local mode: no banner


def get_session(master: str | None = None, workers: int | None = None) -> "SparkSession":
    """A SparkSession: ``master``, else the one spark-submit configured, else ``local[workers or *]``."""
    from pyspark.sql import SparkSession

    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started the JVM and set the master
    if master is None and not under_submit:
        master = f"local[{workers or '*'}]"
    builder = SparkSession.builder.appName("spamdetect-score")
    if master is not None:
        builder = builder.master(master)
    if master is not None and master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this interpreter and its packages
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.ui.enabled", "false")
                   # The local JVM only plans jobs and moves small batches; its optimising JIT compiler
                   # (C2) spent ~16 s of CPU per run on the cores the Python tasks score on. The quick
                   # JIT (C1) alone halves the JVM's CPU; 8,000 pages on local[2] scored ~10% faster (medians).
                   .config("spark.driver.extraJavaOptions",
                           f"-XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"))
    builder = (builder
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.executorEnv.OMP_NUM_THREADS", "1")
               # pyspark 4.x warns about pandas 3 in every Python worker; the columns used here convert fine
               .config("spark.executorEnv.PYTHONWARNINGS", "ignore::FutureWarning"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _named_format(output: str) -> str | None:
    """The format an output's suffix names (None for a plain directory name such as s3a://bucket/scores)."""
    try:
        return infer_format(output)
    except ValueError:
        return None


def cli_main(args: argparse.Namespace) -> int:
    """``spamdetect score --engine spark``: 0 when every input file is committed; 2 when the run could
    not start; 1 when it failed part-way; 130 on Ctrl-C (committed jobs are kept: ``--resume``)."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
    resume, overwrite = getattr(args, "resume", False), getattr(args, "overwrite", False)
    try:  # usage errors before starting a JVM
        if args.format not in (None, "parquet"):
            raise CannotStart(f"the Spark engine writes Parquet only (got --format {args.format})")
        if args.output == "-":
            raise CannotStart("the Spark engine writes a directory of Parquet files; give -o OUT.parquet")
        if _named_format(args.output) not in ("parquet", None):
            raise CannotStart(f"the Spark engine writes a directory of Parquet files, not the format {args.output} "
                              "names; give -o OUT.parquet")
        listed: Counter[str] = Counter()
        files = expand_inputs(args.inputs, listed)
        if not resume and not overwrite and "://" not in args.output and os.path.exists(args.output):
            raise CannotStart(f"{args.output} already holds results: use --resume to continue that run, "
                              "or --overwrite to replace it")
    except (CannotStart, ValueError, OSError) as exc:
        print(f"spamdetect score: {exc}", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    ours = SparkSession.getActiveSession() is None  # stop only a session this call started
    spark = get_session(args.spark_master, args.workers)
    try:
        result = run(spark, files, args.output, model_uri=args.model, resume=resume, overwrite=overwrite,
                     files_per_job=getattr(args, "files_per_job", None), progress=not args.quiet, listed=listed)
    except CannotStart as exc:
        print(f"spamdetect score: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spamdetect score: stopped by SIGINT; the committed jobs in {args.output} are kept: "
              "rerun with --resume to finish", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 -- a Spark job failed (lost executors, out of memory, ...)
        print(f"spamdetect score: failed: {type(exc).__name__}: {str(exc)[:2000]}\nthe committed jobs in "
              f"{args.output} are kept: rerun with --resume to finish", file=sys.stderr)
        return 1
    finally:
        if ours:
            spark.stop()
    if result.skipped:
        print(f"resumed: {result.skipped} of {result.files} input files were already committed", file=sys.stderr)
    print(result.summary.line(), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point for spark-submit: ``spark-submit spamdetect/spark_engine.py INPUT... -o OUT.parquet``."""
    from spamdetect.cli import main as cli

    return cli(["score", "--engine", "spark", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    # Import by module name so that cloudpickle ships functions by reference (the worker model cache
    # lives in spamdetect.spark_engine, not in a copy of __main__).
    from spamdetect.spark_engine import main as _main

    sys.exit(_main())
