"""spamdetect: score crawled web pages for trustworthiness and catch content farms.

    import spamdetect
    scorer = spamdetect.load()                      # the default model (see spamdetect.loading)
    scorer.score(html=page_html, url=page_url)      # {"id", "url", "trust", "label", "reasons", "error"}
"""

from __future__ import annotations

__version__ = "0.1.0"


def load(model: str | None = None, *, threshold: float | None = None):
    """A ready ``spamdetect.api.Scorer``; imported here lazily so ``import spamdetect`` stays instant."""
    from spamdetect.api import load as _load

    return _load(model, threshold=threshold)
