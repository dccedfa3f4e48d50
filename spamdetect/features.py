"""The featurizer: a scikit-learn transformer that runs every signal family on every page.

Input is a DataFrame with ``url`` and ``html`` or ``text`` (optionally ``crawl_date``, ``id``),
or a list of ``Page``. Output is a float matrix in a fixed feature order; a page whose
signals fail entirely becomes a row of NaN, so one bad page never breaks a batch.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from spamdetect import signals
from spamdetect.signals import page_features
from spamdetect.page import Page
from spamdetect.pools import pool_context
from spamdetect.readers import record_from_row


def page_from_row(row: dict) -> Page:
    """Build a Page from a record dict with ``html`` or ``text`` (``url``, ``crawl_date``, ``id`` optional),
    read as every entry point reads a row (``readers.record_from_row``); ValueError when it cannot be scored."""
    record = record_from_row(row, None, "<row>", what="record")
    if record.page is None:
        raise ValueError(record.error)
    return record.page


class SignalFeaturizer(TransformerMixin, BaseEstimator):
    """Pages -> signal matrix. Stateless: ``fit`` only fixes the feature names.

    families: signal families to run (default all); domain_lists: look the domain up in
    the public domain lists (off by default: the model must stand without them).
    """

    def __init__(self, families: list[str] | None = None, domain_lists: bool = False):
        self.families = families
        self.domain_lists = domain_lists

    def fit(self, X=None, y=None):
        self.feature_names_ = signals.feature_names(self.families)
        return self

    def transform(self, X) -> np.ndarray:
        names = self.feature_names_ if hasattr(self, "feature_names_") else signals.feature_names(self.families)
        pages = as_pages(X)
        out = np.full((len(pages), len(names)), np.nan, dtype=np.float64)
        for i, page in enumerate(pages):
            if page is None:
                continue
            try:
                values = page_features(page, self.families, self.domain_lists)
            except Exception:  # noqa: BLE001 - a page that breaks a signal scores as unknown, not a crash
                continue
            out[i] = [values.get(n, np.nan) for n in names]
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(signals.feature_names(self.families), dtype=object)


def as_pages(X) -> list[Page | None]:
    """Pages from a DataFrame, a list of record dicts or Pages, or one Page; None for an unreadable record."""
    if isinstance(X, pd.DataFrame):
        rows: Iterable[dict] = X.to_dict("records")
    elif isinstance(X, Page):
        return [X]
    else:
        rows = X
    pages: list[Page | None] = []
    for row in rows:
        if row is None or isinstance(row, Page):
            pages.append(row)
            continue
        try:
            pages.append(page_from_row(row))
        except (ValueError, TypeError):
            pages.append(None)
    return pages


def _map_chunks(fn, df: pd.DataFrame, args: tuple, *, workers: int, chunk: int, progress: bool = False,
                desc: str = "") -> list:
    """``fn((records, *args))`` over the frame's records in chunks, in worker processes when
    ``workers`` > 1, in order, with an optional progress bar."""
    from concurrent.futures import ProcessPoolExecutor

    from spamdetect.progress import progress_bar

    cols = [c for c in ("id", "url", "html", "text", "crawl_date") if c in df.columns]
    records = df[cols].to_dict("records")
    jobs = [(records[i:i + chunk], *args) for i in range(0, len(records), chunk)]
    bar = progress_bar(total=len(records), desc=desc, unit="page", disable=not progress)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) if workers > 1 else None
    try:
        parts = []
        for part, job in zip(pool.map(fn, jobs) if pool else map(fn, jobs), jobs):
            parts.append(part)
            bar.update(len(job[0]))
        return parts
    finally:
        bar.close()
        if pool:
            pool.shutdown()


def words_of(pages: list[Page | None]) -> list[list[str]]:
    """Each page's words as the text channel reads them (``text_model.page_words``); [] for None."""
    from spamdetect.text_model import page_words

    out = []
    for page in pages:
        try:
            out.append(page_words(page) if page is not None else [])
        except Exception:  # noqa: BLE001 - a page that cannot be read has no words to learn from
            out.append([])
    return out


def _words_chunk(args) -> list[list[str]]:
    return words_of(as_pages(args[0]))


def featurize_words(df: pd.DataFrame, *, workers: int = 1, chunk: int = 128) -> list[list[str]]:
    """Each row's words as the text channel reads them (``text_model.page_words``), in parallel."""
    return [d for part in _map_chunks(_words_chunk, df, (), workers=workers, chunk=chunk) for d in part]


def _featurize_chunk(args) -> np.ndarray:
    rows, families, domain_lists = args
    return SignalFeaturizer(families, domain_lists).fit().transform(rows)


def featurize_frame(df: pd.DataFrame, *, families: list[str] | None = None, domain_lists: bool = False,
                    workers: int = 1, chunk: int = 64, progress: bool = True, desc: str = "signals") -> np.ndarray:
    """The feature matrix of a whole frame, in parallel worker processes, with a progress bar."""
    parts = _map_chunks(_featurize_chunk, df, (families, domain_lists), workers=workers, chunk=chunk,
                        progress=progress, desc=desc)
    width = len(signals.feature_names(families))
    return np.vstack(parts) if parts else np.empty((0, width))
