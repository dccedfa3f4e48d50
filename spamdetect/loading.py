"""Which model scores: an explicit path or MLflow URI, else the registry's champion, else the shipped file."""

from __future__ import annotations

import os

from spamdetect.model import TrustModel


def load_model(uri: str | None = None) -> TrustModel:
    """The shipped model (no URI), a saved ``.joblib`` file, or an MLflow model URI (``models:/...``)."""
    from spamdetect.config import shipped_model_path

    if uri is None:
        path = shipped_model_path()
        if not path.exists():
            raise FileNotFoundError(f"no shipped model at {path}: run `make model`")
        return TrustModel.load(path)
    if os.path.exists(uri):
        return TrustModel.load(uri)
    from spamdetect.tracking import load_trust_model

    return load_trust_model(uri)
