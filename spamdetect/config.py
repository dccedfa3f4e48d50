"""Configuration: one home. Defaults live here; environment variables and CLI flags override."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def corpus_dir() -> Path:
    """The real-page corpus: $SPAMDETECT_CORPUS, else ../shared/corpus beside the repository."""
    env = os.environ.get("SPAMDETECT_CORPUS")
    return Path(env) if env else PROJECT_DIR.parent / "shared" / "corpus"


def tracking_uri() -> str:
    """MLflow tracking store: $MLFLOW_TRACKING_URI, else the project's embedded sqlite file."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{PROJECT_DIR / 'mlruns.db'}"


def shipped_model_path() -> Path:
    """The default model shipped inside the package (built by `make model`)."""
    return PACKAGE_DIR / "models" / "default.joblib"


def build_dir() -> Path:
    """Scratch space for built corpora and caches ($SPAMDETECT_BUILD, else ./build)."""
    return Path(os.environ.get("SPAMDETECT_BUILD") or PROJECT_DIR / "build")


REGISTERED_MODEL_NAME = "spamdetect"
CHAMPION_ALIAS = "champion"
