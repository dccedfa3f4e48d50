"""Shared fixtures: real pages from the shared corpus (skipped when it is absent) and team-written pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamdetect import config
from spamdetect.corpus.legit import corpus_available, iter_manifest
from spamdetect.model import TrustModel
from spamdetect.page import Page

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def legit_records():
    if not corpus_available():
        pytest.skip("shared corpus not found (set SPAMDETECT_CORPUS)")
    return list(iter_manifest())


@pytest.fixture(scope="session")
def shipped() -> TrustModel:
    """The model shipped in the package (shared: tests must not change it)."""
    return TrustModel.load(config.shipped_model_path())


@pytest.fixture(scope="session")
def real_page(legit_records):
    """Load a real corpus page by a substring of its manifest key, e.g. real_page('postlight-parser/fixtures/www.cnn.com')."""
    by_key = {r.key: r for r in legit_records}

    def load(fragment: str) -> Page:
        matches = [r for k, r in by_key.items() if fragment in k]
        assert matches, f"no corpus page matches {fragment!r}"
        rec = matches[0]
        return Page(html=rec.read_bytes(), url=rec.url, id=rec.key)

    return load


def fixture_page(name: str, url: str | None = None) -> Page:
    """A page the team wrote, from tests/fixtures/ (.html or .txt)."""
    path = FIXTURES / name
    if path.suffix == ".txt":
        return Page.from_text(path.read_text(encoding="utf-8"), url=url)
    return Page(html=path.read_text(encoding="utf-8"), url=url)
