"""The Spark engine on local[2]: same records as the local engine, error records, resume after a kill."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java 17+ (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

from spamdetect import cli, spark_engine  # noqa: E402
from spamdetect.batch import CannotStart, Summary, score_to_file  # noqa: E402
from spamdetect.loading import load_model  # noqa: E402
from spamdetect.page import Page  # noqa: E402
from spamdetect.readers import OTHER_FILES, Record  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")]

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"


def write_warc(path: Path, records) -> None:
    """A WARC of real corpus pages as HTTP responses, each after its request record as crawlers write
    them (gzip per record when the name ends in .gz)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=path.name.endswith(".gz"))
        for rec in records:
            body = rec.read_bytes()
            writer.write_record(writer.create_warc_record(rec.url or f"https://example.invalid/{rec.key}", "request",
                                                          payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"),
                                                          warc_content_type="application/http; msgtype=request"))
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(rec.url or f"https://example.invalid/{rec.key}", "response",
                                                          payload=io.BytesIO(body), http_headers=http))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, legit_records) -> list[str]:
    """3 WARCs of 10 real pages each, the team's sample folder (with a JSONL that has bad lines),
    a truncated WARC, a WARC of random bytes and a folder with no input in it."""
    root = tmp_path_factory.mktemp("spark-in")
    pages = legit_records[:30]
    warcs = [root / f"crawl-{i}.warc.gz" for i in range(3)]
    for i, path in enumerate(warcs):
        write_warc(path, pages[i::3])
    truncated = root / "cut.warc.gz"
    truncated.write_bytes(warcs[0].read_bytes()[: warcs[0].stat().st_size // 2])
    garbage = root / "garbage.warc.gz"
    # seeded: about 1 in 200 random files happens to parse as a cut record header (a different message)
    garbage.write_bytes(random.Random(0).randbytes(4000))
    notes = root / "notes"
    notes.mkdir()
    (notes / "README.md").write_text("not an input: passed over and counted")
    return [*map(str, warcs), str(SAMPLE_DIR), str(truncated), str(garbage), str(notes)]


@pytest.fixture(scope="module")
def spark():
    session = spark_engine.get_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_run(spark, inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("spark-out") / "scores.parquet"
    result = spark_engine.run(spark, inputs, str(out), files_per_job=4, progress=False)
    return result, out, pd.read_parquet(out)


@pytest.fixture(scope="module")
def local_run(inputs, tmp_path_factory) -> tuple[Summary, pd.DataFrame]:
    out = tmp_path_factory.mktemp("local-out") / "scores.jsonl"
    summary = score_to_file(inputs, str(out), workers=0, progress=False)  # in this process: no pool to start
    return summary, pd.read_json(out, lines=True, dtype=False)


def test_spark_scores_every_record_like_the_local_engine(spark_run, local_run):
    result, _, df = spark_run
    local_summary, local_run = local_run
    assert df["id"].is_unique
    assert sorted(df["id"]) == sorted(local_run["id"])
    merged = df.merge(local_run, on="id", suffixes=("_spark", "_local"))
    assert len(merged) == len(local_run) >= 30 + 8
    ok = merged["error_local"].isna()
    assert (merged.loc[ok, "trust_spark"] - merged.loc[ok, "trust_local"]).abs().max() < 1e-9
    assert (merged.loc[ok, "label_spark"] == merged.loc[ok, "label_local"]).all()
    assert [list(r) for r in merged.loc[ok, "reasons_spark"]] == list(merged.loc[ok, "reasons_local"])
    assert (merged["error_spark"].isna() == merged["error_local"].isna()).all()
    assert (merged["url_spark"].fillna("") == merged["url_local"].fillna("")).all()
    assert result.summary.pages == len(df)
    assert result.summary.errors == df["error"].notna().sum()
    assert result.summary.farms == (df["label"] == "farm").sum()
    assert result.jobs == 3 and result.skipped == 0
    # the WARCs' request records are counted on the executors, the folder's README.md on the driver
    assert result.summary.passed_over == local_summary.passed_over
    assert result.summary.passed_over["WARC request"] >= 30 and result.summary.passed_over[OTHER_FILES] >= 1


def test_unreadable_inputs_become_error_records(spark_run, inputs):
    _, _, df = spark_run
    errors = df[df["error"].notna()]
    by_source = errors.groupby("source")["error"].apply(list).to_dict()
    assert any("truncated WARC" in e for e in by_source[inputs[4]])
    assert any("unreadable WARC data" in e for e in by_source[inputs[5]])
    jsonl = str(SAMPLE_DIR / "records.jsonl")
    assert any(e.startswith("bad JSON") for e in by_source[jsonl])
    assert errors["trust"].isna().all() and errors["label"].isna().all()
    # the pages before the cut in the truncated WARC are still scored
    assert df[(df["source"] == inputs[4]) & df["error"].isna()].shape[0] >= 1


def test_output_is_a_parquet_directory_with_the_record_schema(spark_run):
    _, out, _ = spark_run
    schema = pq.read_schema(next(out.glob("g00000-*.parquet")))
    assert schema.names == ["id", "url", "trust", "label", "reasons", "error", "source"]
    assert str(schema.field("trust").type) == "double"
    assert str(schema.field("reasons").type).startswith("list<")
    assert (out / "_SUCCESS").exists() and not (out / "_staging").exists()
    done = sorted(p.name for p in (out / "_done").glob("g*.json"))
    assert done == ["g00000.json", "g00001.json", "g00002.json"]
    record = json.loads((out / "_done" / "g00000.json").read_text())
    assert len(record["inputs"]) == 4 and all((out / f).exists() for f in record["files"])


def test_sites_reads_the_spark_output_directory_as_it_reads_the_local_engine_s_file(spark_run, local_run,
                                                                                    tmp_path, capsys):
    # the next step of a crawl pipeline: `spamdetect sites` on what `score --engine spark -o DIR` wrote,
    # its _done/ records and _SUCCESS left out; the site table equals the one from the local engine's JSONL
    from spamdetect.sites import cli_main

    _, out, _ = spark_run
    local = tmp_path / "local.jsonl"
    local_run[1].to_json(local, orient="records", lines=True)
    tables = {}
    for name, scores in (("spark", str(out)), ("local", str(local))):
        args = cli.build_parser().parse_args(["sites", scores, "-o", str(tmp_path / f"{name}.csv")])
        assert cli_main(args) == 0, capsys.readouterr().err
        tables[name] = pd.read_csv(tmp_path / f"{name}.csv")
    assert len(tables["spark"]) >= 2
    pd.testing.assert_frame_equal(tables["spark"], tables["local"])


def test_existing_output_is_refused_without_resume(spark, spark_run, inputs):
    _, out, _ = spark_run
    with pytest.raises(CannotStart, match="--resume"):
        spark_engine.run(spark, inputs, str(out), progress=False)


def test_resume_cleans_an_uncommitted_group_and_scores_only_missing_files(spark, spark_run, inputs, tmp_path):
    _, _, full = spark_run
    out = tmp_path / "scores.parquet"
    first = spark_engine.run(spark, inputs[:2], str(out), progress=False)
    assert first.summary.pages == 20
    # what a driver killed mid-commit leaves: Spark's staging dir, data moved in without a commit record
    committed = next(out.glob("g00000-*.parquet"))
    shutil.copy(committed, out / "g00001-part-00000-leftover.parquet")
    (out / "_staging" / "g00001").mkdir(parents=True)
    shutil.copy(committed, out / "_staging" / "g00001" / "part-00000.parquet")
    (out / "_done" / "g00001.json.tmp").write_text("{")
    second = spark_engine.run(spark, inputs, str(out), resume=True, files_per_job=8, progress=False)
    assert second.skipped == 2 and second.summary.pages == len(full) - 20
    df = pd.read_parquet(out)
    assert df["id"].is_unique and sorted(df["id"]) == sorted(full["id"])
    assert not (out / "g00001-part-00000-leftover.parquet").exists()
    assert not (out / "_staging").exists() and not (out / "_done" / "g00001.json.tmp").exists()
    third = spark_engine.run(spark, inputs, str(out), resume=True, progress=False)
    assert third.skipped == third.files == len(spark_engine.expand_inputs(inputs)) and third.jobs == 0
    # what was passed over is counted over the whole input, committed earlier or now, as the local engine does
    assert second.summary.passed_over == third.summary.passed_over == spark_run[0].summary.passed_over
    assert len(pd.read_parquet(out)) == len(full)


def test_a_record_whose_scoring_raises_gets_an_error_and_the_rest_still_score():
    model = load_model()

    class Exploding(type(model)):
        def score_pages(self, pages, **kw):
            if any(p is not None and p.id == "boom" for p in pages):
                raise RuntimeError("model blew up")
            return super().score_pages(pages, **kw)

    bad = Exploding(model.pipeline, model.threshold, model.reference, model.meta)
    html = "<html><head><title>Council approves budget</title></head><body><p>The council met.</p></body></html>"
    records = [Record(i, Page(html=html, url=f"https://example.org/{i}", id=i), None, "x") for i in ("a", "boom", "c")]
    rows = spark_engine.score_batch_safely(bad, records)
    assert [r["id"] for r in rows] == ["a", "boom", "c"]
    assert rows[1]["error"] == "scoring failed: RuntimeError: model blew up" and rows[1]["trust"] is None
    assert rows[0]["error"] is None and rows[2]["error"] is None and rows[0]["trust"] is not None


def _cli(args: list[str], **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "spamdetect", "score", "--engine", "spark",
                             "--spark-master", "local[2]", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **kw)


def test_cli_driver_killed_mid_run_resumes_without_loss_or_duplicates(spark, spark_run, inputs, tmp_path, capsys):
    _, _, full = spark_run
    out = tmp_path / "scores.parquet"
    proc = _cli([*inputs, "-o", str(out), "--files-per-job", "1"])
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None and not list((out / "_done").glob("g*.json")):
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()[1][-2000:]}"
    os.killpg(proc.pid, signal.SIGKILL)  # the driver, its JVM and Python workers, all at once
    _, driver_err = proc.communicate()
    # the JVM logged with spamdetect's configuration: no banner, no native-library notice
    assert "default log4j profile" not in driver_err and "NativeCodeLoader" not in driver_err, driver_err[-2000:]
    committed = len(list((out / "_done").glob("g*.json")))
    n_files = len(spark_engine.expand_inputs(inputs))
    assert 1 <= committed < n_files and not (out / "_SUCCESS").exists()

    # the same CLI, in this process (it reuses the module's Spark session instead of starting a JVM)
    score = ["score", "--engine", "spark", "--spark-master", "local[2]", *inputs, "-o", str(out)]
    assert cli.main(score) == 2
    assert "already holds results: use --resume" in capsys.readouterr().err
    assert cli.main([*score, "--resume"]) == 0
    err = capsys.readouterr().err
    assert f"resumed: {committed} of {n_files} input files were already committed" in err
    assert "pages/s" in err.splitlines()[-1] and "resumed after" in err.splitlines()[-1]
    df = pd.read_parquet(out)
    assert df["id"].is_unique and sorted(df["id"]) == sorted(full["id"])
    assert spark.sparkContext._jsc is not None  # the caller's session was left running


def test_uri_inputs_are_fetched_by_the_executors_and_keep_their_uri_as_source(spark, spark_run, inputs, tmp_path):
    _, _, full = spark_run
    uris = [Path(inputs[0]).as_uri(), (SAMPLE_DIR / "records.jsonl").as_uri()]
    result = spark_engine.run(spark, uris, str(tmp_path / "uri.parquet"), progress=False)
    df = pd.read_parquet(tmp_path / "uri.parquet")
    assert set(df["source"]) == set(uris) and result.summary.pages == len(df)
    local = full[full["source"].isin([inputs[0], str(SAMPLE_DIR / "records.jsonl")])]
    renamed = {i.replace(inputs[0], uris[0]).replace(str(SAMPLE_DIR / "records.jsonl"), uris[1]): t
               for i, t in zip(local["id"], local["trust"])}
    assert dict(zip(df["id"], df["trust"])).keys() == renamed.keys()
    assert all(pd.isna(t) and pd.isna(renamed[i]) or t == renamed[i] for i, t in zip(df["id"], df["trust"]))


def test_missing_input_is_refused_before_anything_runs(inputs, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such input: .*missing.warc.gz"):
        spark_engine.expand_inputs([*inputs, str(tmp_path / "missing.warc.gz")])


def test_a_file_named_twice_or_through_a_symbolic_link_is_read_once(inputs, tmp_path):
    link = tmp_path / "again.warc.gz"
    link.symlink_to(inputs[0])
    files = spark_engine.expand_inputs([inputs[0], str(link), inputs[0]])
    assert [f.name for f in files] == [inputs[0]]


def test_the_spark_submit_entry_point_reads_an_input_list_as_the_cli_does(spark, spark_run, inputs, tmp_path, capsys):
    # spark-submit spamdetect/spark_engine.py --inputs-from warc.paths -o OUT: the CLI's own arguments
    listed = tmp_path / "warc.paths"
    listed.write_text("".join(f"{p}\n" for p in inputs[:2]))
    out = tmp_path / "listed.parquet"
    assert spark_engine.main(["--inputs-from", str(listed), "-o", str(out), "-q"]) == 0, capsys.readouterr().err
    df = spark_run[2]
    assert sorted(pd.read_parquet(out)["id"]) == sorted(df.loc[df["source"].isin(inputs[:2]), "id"])


@pytest.mark.parametrize("output", ["scores.jsonl", "scores.csv", "-"])
def test_an_output_naming_another_format_is_refused_before_a_jvm_starts(inputs, tmp_path, capsys, output):
    from spamdetect.cli import main

    target = output if output == "-" else str(tmp_path / output)
    assert main(["score", "--engine", "spark", inputs[0], "-o", target, "-q"]) == 2
    assert "give -o OUT.parquet" in capsys.readouterr().err and not (tmp_path / output).exists()


def test_local_session_runs_its_jvm_with_the_quick_jit_only_and_our_logging(spark):
    # the local JVM shares the cores with the Python tasks: its optimising JIT only took CPU from them
    args = list(spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert "-XX:TieredStopAtLevel=1" in args
    assert f"-Dlog4j2.configurationFile={spark_engine.LOG_CONFIG.as_uri()}" in args and spark_engine.LOG_CONFIG.exists()
