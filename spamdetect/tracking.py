"""Everything MLflow: where runs go, how a training run is logged, how the champion is served.

Layout (defaults; ``$MLFLOW_TRACKING_URI`` overrides the store):
- run metadata, metrics, params, datasets and the model registry live in the sqlite file
  ``<project>/mlruns.db`` (``spamdetect.config.tracking_uri()``);
- artifact files live in ``mlartifacts/<experiment>/`` beside the sqlite file: run files
  (plots, CSVs) under ``<run_id>/artifacts/``; the pyfunc model, a MLflow 3 "LoggedModel",
  under ``models/<model_id>/artifacts/`` (not inside the run's folder). MLflow would
  otherwise put artifacts in ``./mlruns`` of whatever directory the process started in, so
  ``setup`` pins the experiment's artifact location when it creates the experiment.

Serving: ``MLFLOW_TRACKING_URI=sqlite:///<project>/mlruns.db mlflow models serve
-m models:/spamdetect@champion --env-manager local -p 5001`` and POST
``{"dataframe_records": [{"url": ..., "html": ...}]}`` to ``/invocations``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import warnings
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types.schema import Array, ColSpec, Schema

from spamdetect import config
from spamdetect.page import is_missing
from spamdetect.writers import COLUMNS as OUTPUT_COLUMNS  # the serving endpoint answers score's fields

DEFAULT_EXPERIMENT = "spamdetect"
CHAMPION_URI = f"models:/{config.REGISTERED_MODEL_NAME}@{config.CHAMPION_ALIAS}"
INPUT_COLUMNS = ("id", "url", "html", "text", "crawl_date")
_DIGEST_MAX = 36  # MLflow rejects dataset digests longer than this


# ----- store layout ------------------------------------------------------------------------

def artifact_root(uri: str, experiment: str = DEFAULT_EXPERIMENT) -> str | None:
    """Where an experiment's artifacts go: ``mlartifacts/<experiment>/`` beside a sqlite file
    (as a file URI); ``None`` (the store decides) for servers and file stores."""
    if not uri.startswith("sqlite:"):
        return None
    db = unquote(urlparse(uri).path)
    if uri.startswith("sqlite:////"):  # sqlite:////abs/path.db: the parsed path keeps one extra "/"
        db = "/" + db.lstrip("/")
    elif uri.startswith("sqlite:///"):  # sqlite:///rel.db: relative to the working directory
        db = db.lstrip("/")
    if not db or db == ":memory:":
        return None
    folder = re.sub(r"[^A-Za-z0-9_.-]+", "_", experiment).strip("._") or "experiment"
    return (Path(db).resolve().parent / "mlartifacts" / folder).as_uri()


def setup(uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT) -> str:
    """Point MLflow at the project store and the experiment; returns the experiment id.

    A new experiment gets its artifact location pinned to :func:`artifact_root`; an existing
    one keeps whatever location it was created with (MLflow cannot move it).
    """
    uri = uri or config.tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        exp_id = client.create_experiment(experiment, artifact_location=artifact_root(uri, experiment))
    else:
        exp_id = exp.experiment_id
        if exp.lifecycle_stage == "deleted":
            client.restore_experiment(exp_id)
    mlflow.set_experiment(experiment_id=exp_id)
    return exp_id


# ----- the pyfunc wrapper ----------------------------------------------------------------

class SpamdetectPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow wrapper around a saved ``TrustModel`` (artifact ``"model"``, a joblib file).

    Input: a DataFrame with ``url`` and ``html`` and/or ``text`` (``id``, ``crawl_date``
    optional; a missing column counts as empty). Output: one row per input row with
    ``id, url, trust, label, reasons, error``.

    Two kinds of bad input, answered differently (the scoring server turns an
    ``INVALID_PARAMETER_VALUE`` exception into HTTP 400):
    - a bad *request* is refused whole: no rows, no ``html``/``text`` column, a value of the
      wrong type (e.g. ``html`` a number, ``url`` a list), more than ``MAX_ROWS`` rows or more
      than ``MAX_CONTENT_CHARS`` of page content;
    - a bad *row* (neither html nor text, binary data or no markup at all in ``html``, an
      unreadable ``crawl_date``) gets an ``error`` and no score while the rest of the batch
      still scores, as in ``spamdetect score``; when no row at all could be scored the
      request is refused, so a single bad page is never answered with a quiet 200.
    """

    MAX_ROWS = 1000
    # Page content per request. Page already parses at most 2 MB of one page; this bounds the
    # work one request can hold a worker for (~16 MB of pages is tens of seconds on one core).
    MAX_CONTENT_CHARS = 16_000_000
    _SNIFF = 4096  # characters looked at to tell binary data from markup
    _MAGIC = (("\x89PNG", "a PNG image"), ("\xff\xd8\xff", "a JPEG image"), ("GIF8", "a GIF image"),
              ("%PDF-", "a PDF document"), ("PK\x03\x04", "a ZIP archive"), ("\x1f\x8b", "gzip data"),
              ("RIFF", "a RIFF (WebP/WAV/AVI) file"), ("iVBORw0KGgo", "a base64-encoded PNG"),
              ("/9j/", "a base64-encoded JPEG"), ("R0lGOD", "a base64-encoded GIF"),
              ("JVBERi0", "a base64-encoded PDF"), ("data:", "a data: URI"))
    _TAG = re.compile(r"<[A-Za-z!/?]")
    _CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")

    def load_context(self, context) -> None:
        from spamdetect.model import TrustModel  # lazy: importing tracking must not load every signal

        self.model = TrustModel.load(context.artifacts["model"])
        _warn_on_code_drift(self.model)
        # One OpenMP thread per predict: a server predicts requests concurrently in threads, and
        # boosted-tree teams spinning against each other made a one-page predict 20-100x slower
        # on a busy machine. More throughput comes from more worker processes.
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="openmp")

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        df = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        df = df.copy()
        self.check_request(df)
        for col in INPUT_COLUMNS:
            if col not in df.columns:
                df[col] = None
        # Schema enforcement may hand us pandas' "str" dtype with NaN for missing cells;
        # the featurizer wants None there.
        df = df.astype(object).where(df.notna(), None).reset_index(drop=True)
        refused = {}
        for i, row in enumerate(df.itertuples(index=False)):
            why = self.row_problem(row.html, row.text)
            if why:
                refused[i] = why
                df.at[i, "html"] = df.at[i, "text"] = None  # scored as an empty row, then relabelled
        out = self.model.score_frame(df)[list(OUTPUT_COLUMNS)].copy()
        for i, why in refused.items():
            out.at[i, "error"] = why
        if out["error"].notna().all():
            shown = "; ".join(f"row {i} (id {out.at[i, 'id']}): {out.at[i, 'error']}" for i in range(min(len(out), 5)))
            raise _invalid(f"no record in the request could be scored: {shown}"
                           + (f"; and {len(out) - 5} more" if len(out) > 5 else ""))
        # pandas 3 stores [None, "msg"] as its "str" dtype with NaN, and NaN is not JSON:
        # give callers and the scoring server real nulls.
        for col in ("id", "url", "label", "error"):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
        if out["trust"].isna().any():
            out["trust"] = out["trust"].astype(object).where(out["trust"].notna(), None)
        return out

    @classmethod
    def check_request(cls, df: pd.DataFrame) -> None:
        """Refuse a request that cannot be meant as pages to score (raises ``MlflowException``, HTTP 400)."""
        if len(df) == 0:
            raise _invalid("the request has no records to score (an empty dataframe, or none of its fields "
                           f"is one of {', '.join(INPUT_COLUMNS)}; other fields are ignored)")
        if "html" not in df.columns and "text" not in df.columns:
            raise _invalid(f"missing column: every request needs an 'html' or a 'text' column "
                           f"(got {', '.join(map(str, df.columns))})")
        if len(df) > cls.MAX_ROWS:
            raise _invalid(f"too many records: {len(df):,} in one request, at most {cls.MAX_ROWS:,}; "
                           "split the batch, or score files in bulk with `spamdetect score`")
        wrong = []
        for col in (c for c in INPUT_COLUMNS if c in df.columns):
            for i, v in enumerate(df[col].tolist()):
                if not is_missing(v) and not isinstance(v, str) and not (col == "id" and isinstance(v, int) and not isinstance(v, bool)) \
                        and not (col == "crawl_date" and hasattr(v, "year")):
                    wrong.append(f"'{col}' must be a string, row {i} has {type(v).__name__} {_preview(v)}")
        if wrong:
            raise _invalid("wrong type: " + "; ".join(wrong[:5]) + (f"; and {len(wrong) - 5} more" if len(wrong) > 5 else ""))
        size = sum(len(v) for col in ("html", "text") if col in df.columns for v in df[col].tolist()
                   if isinstance(v, str))
        if size > cls.MAX_CONTENT_CHARS:
            raise _invalid(f"request too large: {size:,} characters of page content, at most "
                           f"{cls.MAX_CONTENT_CHARS:,} per request; split the batch, or score files in bulk "
                           "with `spamdetect score`")

    @classmethod
    def row_problem(cls, html: str | None, text: str | None) -> str | None:
        """Why a row's content is not a page (binary data, no markup in ``html``), else None."""
        if html:
            what = cls._binary(html)
            if what:
                return f"html is not HTML: {what}"
            if not cls._TAG.search(html):
                return ("html is not HTML: no markup at all (starts " + _preview(html) + "); "
                        "send extracted plain text in the 'text' column")
        elif text:
            what = cls._binary(text)
            if what:
                return f"text is not text: {what}"
        return None

    @classmethod
    def _binary(cls, s: str) -> str | None:
        head = s.lstrip()[:cls._SNIFF]
        for magic, name in cls._MAGIC:
            if head.startswith(magic):
                return f"{name}"
        controls = len(cls._CONTROL.findall(head))
        if "\x00" in head or controls > len(head) * 0.05:
            return f"binary data ({controls} control characters in the first {len(head):,})"
        return None


def _invalid(message: str):
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def _preview(v, n: int = 40) -> str:
    r = repr(v)
    return r if len(r) <= n else r[:n] + "..."


def _warn_on_code_drift(model) -> None:
    """The model stores only the fitted pipeline; its signals run from the spamdetect code
    installed where it is served. Warn when that code computes different features for the pages
    the model kept a fingerprint of (``train.signals_fingerprint``); a model without them is
    compared by the source of the signal code (``train.signals_version``), which any rewrite changes."""
    meta = getattr(model, "meta", None) or {}
    try:
        from spamdetect import train

        if meta.get("probe_rows") and meta.get("probe_fingerprint"):
            trained, current = meta["probe_fingerprint"], train.signals_fingerprint(meta["probe_rows"])
            what = "computes different signals for the model's probe pages than the code it was trained with"
            label = "probe fingerprint"
        elif meta.get("signals_version"):
            trained, current = meta["signals_version"], train.signals_version()
            what = "differs from the code this model was trained with"
            label = "signals_version"
        else:
            return
    except Exception:  # noqa: BLE001 - a version check must never stop a model from loading
        return
    if current != trained:
        warnings.warn(f"the installed spamdetect signal code {what} ({label} {current} != {trained}); scores may shift",
                      RuntimeWarning, stacklevel=2)


def model_signature() -> ModelSignature:
    """Inputs: optional string columns ``id, url, html, text, crawl_date`` (ISO date).
    Outputs: ``id, url`` strings, ``trust`` double, ``label`` string, ``reasons`` list of
    strings, ``error`` string (``trust``/``label`` are null on error rows)."""
    inputs = Schema([ColSpec("string", c, required=False) for c in INPUT_COLUMNS])
    outputs = Schema([
        ColSpec("string", "id"),
        ColSpec("string", "url", required=False),
        ColSpec("double", "trust", required=False),
        ColSpec("string", "label", required=False),
        ColSpec(Array("string"), "reasons"),
        ColSpec("string", "error", required=False),
    ])
    return ModelSignature(inputs=inputs, outputs=outputs)


def pip_requirements() -> list[str]:
    """spamdetect's own runtime dependencies, pinned to the installed versions.

    Declared instead of inferred: inference loads the model in a subprocess (slow) and cannot
    see spamdetect itself, which is not on PyPI; serve with ``--env-manager local`` in an
    environment where spamdetect is installed.
    """
    try:
        declared = metadata.requires("spamdetect") or []
    except metadata.PackageNotFoundError:  # running from a source checkout that was never installed
        import tomllib

        declared = tomllib.loads((config.PROJECT_DIR / "pyproject.toml").read_text())["project"]["dependencies"]
    reqs = []
    for req in declared:
        if ";" in req:  # extras such as pytest
            continue
        name = req.split("[")[0]
        for sep in ("<", ">", "=", "!", "~", " "):
            name = name.split(sep)[0]
        try:
            reqs.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            reqs.append(req)
    return reqs


# ----- logging a training run ------------------------------------------------------------

def _stage_artifacts(artifacts: dict[str, Path], into: Path) -> None:
    """Copy artifacts into a folder tree mirroring the run's artifact layout.

    A key with a file extension is the exact destination (``{"plots/roc.png": path}``); any
    other key is just a name and the file keeps its own name (``{"roc_curve": .../roc_curve.png}``
    -> ``roc_curve.png``; a key ending in "/" is a folder: ``{"plots/": .../roc.png}``).
    A folder value is copied whole, under the key.
    """
    for key, src in artifacts.items():
        src = Path(src)
        if src.is_dir():
            shutil.copytree(src, into / key.rstrip("/"), dirs_exist_ok=True)
            continue
        if key.endswith("/"):
            target = into / key / src.name
        elif Path(key).suffix:
            target = into / key
        else:
            target = into / Path(key).parent / src.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def _param_value(v) -> str:
    text = v if isinstance(v, str) else json.dumps(v, default=str, sort_keys=True)
    return text[:6000]  # MLflow's parameter value limit


def log_training_run(
    model,
    *,
    params: dict,
    metrics: dict,
    dataset_df: pd.DataFrame,
    dataset_name: str,
    fingerprint: str,
    dataset_source: str | None = None,
    artifacts: dict[str, Path] | None = None,
    input_example: pd.DataFrame | None = None,
    register: bool = True,
    run_name: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    tags: dict[str, str] | None = None,
) -> str:
    """Log one training run and (by default) make its model the registered champion.

    model: a fitted ``TrustModel``. params: hyperparameters etc. (non-strings are JSON-encoded).
    metrics: name -> float (``spamdetect.evaluate.compute_metrics``); they are also attached to
    the logged model. dataset_df: corpus metadata rows (no page bodies), logged as the run's
    training dataset ``dataset_name`` with the first 36 characters of ``fingerprint`` as its
    digest (``dataset_source``: where it was read from, a path or URI; default: this code);
    the full fingerprint goes to tag and param ``dataset_fingerprint``. artifacts: name or
    destination -> local file or folder (see ``_stage_artifacts``). input_example: a few
    input rows stored with the model (MLflow runs the model on them at log time).
    register: register as ``spamdetect`` and point alias ``champion`` at the new version.
    Returns the run id.
    """
    setup(mlflow.get_tracking_uri() if _uri_was_set() else None, experiment)  # idempotent

    run_tags = {"dataset_fingerprint": fingerprint, "threshold": repr(float(model.threshold)), **(tags or {})}
    with mlflow.start_run(run_name=run_name, tags=run_tags) as run, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mlflow.log_params({k: _param_value(v) for k, v in {
            **params, "threshold": model.threshold, "n_features": len(model.feature_names),
            "dataset_fingerprint": fingerprint,
        }.items()})

        with warnings.catch_warnings():  # schema inference nags about integer columns: irrelevant here
            warnings.simplefilter("ignore", UserWarning)
            dataset = mlflow.data.from_pandas(dataset_df, source=dataset_source, name=dataset_name,
                                              digest=fingerprint[:_DIGEST_MAX])
            mlflow.log_input(dataset, context="training", tags={"fingerprint": fingerprint[:500]})

        if artifacts:
            staged = tmp / "artifacts"
            staged.mkdir()
            _stage_artifacts(artifacts, staged)
            mlflow.log_artifacts(str(staged))
        (tmp / "feature_names.json").write_text(json.dumps(model.feature_names, indent=1))
        mlflow.log_artifact(str(tmp / "feature_names.json"))

        model_path = model.save(tmp / "trust_model.joblib")
        # "Models from code": MLflow stores this tiny script instead of a cloudpickle of the
        # wrapper, and runs it at load time to get the python model.
        entry = tmp / "spamdetect_pyfunc.py"
        entry.write_text(ENTRY_SCRIPT)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(entry),
            artifacts={"model": str(model_path)},
            signature=model_signature(),
            input_example=_example(input_example),
            pip_requirements=pip_requirements(),
            registered_model_name=config.REGISTERED_MODEL_NAME if register else None,
            metadata={"threshold": model.threshold, "dataset_fingerprint": fingerprint},
        )
        clean = {k: float(v) for k, v in metrics.items() if v is not None}
        mlflow.log_metrics(clean, model_id=info.model_id)

        if register and info.registered_model_version is not None:
            client = MlflowClient()
            version = str(info.registered_model_version)
            client.set_registered_model_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS, version)
            for key, value in (("dataset_fingerprint", fingerprint), ("threshold", repr(float(model.threshold)))):
                client.set_model_version_tag(config.REGISTERED_MODEL_NAME, version, key, value)
        return run.info.run_id


ENTRY_SCRIPT = """\
# Entry point of the spamdetect MLflow model (models-from-code); needs spamdetect importable.
import mlflow

from spamdetect.tracking import SpamdetectPyfunc

mlflow.models.set_model(SpamdetectPyfunc())
"""


def _example(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """The input example as plain object columns (None for missing), limited to input columns."""
    if df is None:
        return None
    cols = [c for c in INPUT_COLUMNS if c in df.columns]
    ex = df[cols].astype(object)
    return ex.where(ex.notna(), None).reset_index(drop=True)


def _uri_was_set() -> bool:
    try:
        from mlflow.tracking._tracking_service.utils import is_tracking_uri_set
        return bool(is_tracking_uri_set())
    except ImportError:  # private helper moved: fall back to the project default
        return False


# ----- loading --------------------------------------------------------------------------

def load_pyfunc(uri: str = CHAMPION_URI, *, tracking_uri: str | None = None):
    """Load a logged/registered spamdetect model as an MLflow pyfunc (default: the champion).

    ``models:/`` URIs are resolved against ``tracking_uri``, else the URI already set in this
    process, else the project store.
    """
    if tracking_uri or not _uri_was_set():
        target = tracking_uri or config.tracking_uri()
        mlflow.set_tracking_uri(target)
        mlflow.set_registry_uri(target)
    return mlflow.pyfunc.load_model(uri)


def load_trust_model(uri: str = CHAMPION_URI, *, tracking_uri: str | None = None):
    """The ``TrustModel`` inside a logged/registered pyfunc, for bulk scoring (``--model models:/...``)."""
    return load_pyfunc(uri, tracking_uri=tracking_uri).unwrap_python_model().model
