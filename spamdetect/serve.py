"""`spamdetect serve`: the trust model over HTTP with MLflow's own scoring server.

Which model: ``--model URI`` when given; else ``$SPAMDETECT_MODEL``; else the registry's
``models:/spamdetect@champion`` when ``$MLFLOW_TRACKING_URI`` is set and that alias exists
(the rule of ``spamdetect.loading``); else the model shipped in the package. A model that is
a ``.joblib`` file is packaged once as an MLflow pyfunc directory under ``build/serve/``. The chosen URI
is served by ``mlflow models serve --env-manager local`` (uvicorn + MLflow's FastAPI app:
``/ping``, ``/health``, ``/version``, ``/invocations``), run from this environment.
Request validation lives in the pyfunc (``spamdetect.tracking.SpamdetectPyfunc``), so any
way of serving the registered model answers bad input the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from spamdetect import config

SHUTDOWN_GRACE_S = 15  # uvicorn finishes in-flight requests on SIGTERM; after this it is killed


def package_model(model_path: Path | None = None, into: Path | None = None) -> Path:
    """A saved ``TrustModel`` (default: the shipped one) as an MLflow pyfunc directory.

    Built the same way a training run logs its model (models-from-code entry script, the
    joblib as artifact ``model``, the input/output signature, pinned requirements), under
    ``<build>/serve/pyfunc-<digest>``; the digest covers the model file and the packaging,
    so an unchanged model is packaged once and a rebuilt one gets a fresh directory.
    """
    import mlflow

    from spamdetect import tracking

    model_path = Path(model_path or config.shipped_model_path())
    if not model_path.is_file():
        raise FileNotFoundError(f"no model file at {model_path}: run `make model` or pass --model")
    signature = tracking.model_signature()
    requirements = tracking.pip_requirements()
    model_sha = hashlib.sha256(model_path.read_bytes()).hexdigest()
    digest = hashlib.sha256(model_sha.encode())
    digest.update(json.dumps([signature.to_dict(), requirements, tracking.ENTRY_SCRIPT]).encode())
    target = Path(into or config.build_dir() / "serve") / f"pyfunc-{digest.hexdigest()[:16]}"
    if (target / "MLmodel").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".packaging-") as scratch:
        entry = Path(scratch) / "spamdetect_pyfunc.py"
        entry.write_text(tracking.ENTRY_SCRIPT)
        staged = Path(scratch) / "model"
        mlflow.pyfunc.save_model(
            path=str(staged),
            python_model=str(entry),
            artifacts={"model": str(model_path)},
            signature=signature,
            pip_requirements=requirements,
            metadata={"source": str(model_path), "sha256": model_sha},
        )
        try:
            staged.rename(target)  # atomic: a concurrent `serve` sees a whole model or none
        except OSError:
            if not (target / "MLmodel").is_file():
                raise
    return target


def resolve_model_uri(model: str | None) -> str:
    """The model URI to serve: ``model`` as given, else the project's default model rule
    (``spamdetect.loading.default_model_uri``: ``$SPAMDETECT_MODEL``, else the registered
    champion when ``$MLFLOW_TRACKING_URI`` is set and has it), else the shipped model.
    A saved ``.joblib`` file (the shipped one included) is packaged as a pyfunc first."""
    from spamdetect.loading import URI_PATTERN, ModelUnavailable, default_model_uri

    target = model or default_model_uri()
    if target is None:
        return str(package_model())
    if os.path.isfile(target):  # a TrustModel file, not an MLflow model directory
        return str(package_model(Path(target)))
    if not os.path.isdir(target) and not URI_PATTERN.match(target):
        raise ModelUnavailable(f"no model file or MLflow model directory {target} "
                               "(and not an MLflow URI such as models:/spamdetect@champion)")
    return target


def check_model_uri(uri: str, env: dict[str, str]) -> None:
    """Raise ``ModelUnavailable`` unless MLflow finds the model ``uri`` names (its MLmodel file), so
    an unknown name, alias or run is reported in one line before the server starts, not as the
    server's traceback."""
    import mlflow.models

    from spamdetect.loading import ModelUnavailable

    previous = os.environ.get("MLFLOW_TRACKING_URI")
    if env.get("MLFLOW_TRACKING_URI"):
        os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]  # the store the server will read
    try:
        mlflow.models.get_model_info(uri)
    except Exception as exc:  # noqa: BLE001 -- MLflow raises its own and OSError kinds for a missing model
        raise ModelUnavailable(f"cannot serve {uri}: {type(exc).__name__}: {exc}") from None
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous


def serve_command(uri: str, host: str, port: int, workers: int = 1, timeout: int | None = None) -> list[str]:
    """The ``mlflow models serve`` command line, run with this interpreter's MLflow."""
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri, "--env-manager", "local",
           "-h", host, "-p", str(port), "-w", str(workers)]
    if timeout:
        cmd += ["-t", str(timeout)]
    return cmd


def serve_env(uri: str) -> dict[str, str]:
    """The server's environment: this venv's bin first (MLflow starts ``uvicorn`` by name), a
    tracking URI for ``models:/``/``runs:/`` URIs (the project store when none is set), and one
    OpenMP thread per worker unless told otherwise."""
    env = dict(os.environ)
    # The scoring server predicts concurrent requests in a thread pool, and sklearn's boosted
    # trees start an OpenMP team per predict: on a busy machine the teams spin against each
    # other and a one-page predict went from 0.1 s to 2-20 s. Scale with --workers instead.
    env.setdefault("OMP_NUM_THREADS", "1")
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    if uri.startswith(("models:", "runs:")) and not env.get("MLFLOW_TRACKING_URI"):
        env["MLFLOW_TRACKING_URI"] = config.tracking_uri()
    return env


def run_server(cmd: list[str], env: dict[str, str]) -> int:
    """Run the server in its own process group until it exits or we get SIGTERM/SIGINT.

    A signal is passed on as SIGTERM to the whole group (the MLflow CLI and uvicorn under it),
    so uvicorn drains in-flight requests; whatever is left after the grace period is killed.
    """
    import psutil

    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    stopping = {"signal": None}

    def forward(signum, _frame):
        stopping["signal"] = signum
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            try:
                rc = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                continue
        # The CLI may exit before uvicorn has drained: wait for the rest of the group too.
        leftovers = [p for p in psutil.process_iter(["pid"]) if _in_group(p, proc.pid)]
        _, alive = psutil.wait_procs(leftovers, timeout=SHUTDOWN_GRACE_S)
        for p in alive:
            p.kill()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if stopping["signal"] is not None:
        print(f"spamdetect serve: stopped ({signal.Signals(stopping['signal']).name})", file=sys.stderr)
        return 0
    return rc


def _in_group(p, pgid: int) -> bool:
    try:
        return os.getpgid(p.pid) == pgid
    except (ProcessLookupError, PermissionError):
        return False


def cli_main(args) -> int:
    """Entry of ``spamdetect serve``."""
    try:
        uri = resolve_model_uri(args.model)
    except FileNotFoundError as exc:
        print(f"spamdetect serve: {exc}", file=sys.stderr)
        return 2
    env = serve_env(uri)
    check_model_uri(uri, env)  # ModelUnavailable: one line and exit 2 (cli.main)
    if shutil.which("uvicorn", path=str(Path(sys.executable).parent)) is None:
        print("spamdetect serve: uvicorn is not installed next to this Python (pip install mlflow)", file=sys.stderr)
        return 2
    print(f"spamdetect serve: model {uri} on http://{args.host}:{args.port} "
          f"(POST /invocations, GET /ping)", file=sys.stderr, flush=True)
    return run_server(serve_command(uri, args.host, args.port, getattr(args, "workers", 1),
                                    getattr(args, "timeout", None)), env)
