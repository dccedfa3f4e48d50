"""The fitted trust model as numpy arrays: everything scoring needs, and nothing that fits.

``TrustModel`` (``spamdetect.model``) is the scikit-learn pipeline that is trained, saved, logged to
MLflow and served. Scoring a page needs only its fitted numbers: the signal columns the classifier
reads, the boosted trees and their calibration (``tree_predict``), the text channel's vocabulary
and weights (``text_predict``), the threshold and the reference values reasons compare against.
``Scorer`` holds those and scores, so bulk scoring and its workers start without importing
scikit-learn, scipy or pandas (about 2 s of start-up per process).

One code path: ``TrustModel`` scores through its own ``Scorer`` (``TrustModel.scorer``), which it
builds and checks against scikit-learn on generated rows and texts (``model.build_scorer``);
``TrustModel.save`` writes that scorer beside the model file (``scorer_path``), tied to the model
file by its SHA-256, and ``read_scorer`` loads it back without scikit-learn.
"""

from __future__ import annotations

import hashlib
import lzma
import pickle
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

from spamdetect import reasons as reasons_mod
from spamdetect.page import Page
from spamdetect.signals import page_features
from spamdetect.text_predict import page_words

FARM, TRUSTWORTHY = "farm", "trustworthy"
TEXT_MODE_FEATURE = "text_quality.is_text_mode"
SCORER_SUFFIX = ".scorer.xz"


class Classifier(Protocol):
    """The calibrated classifier on the selected columns (``tree_predict.FastCalibrated``)."""

    def farm_proba(self, X: np.ndarray) -> np.ndarray: ...

    def log_odds(self, X: np.ndarray) -> np.ndarray: ...


class TextChannel(Protocol):
    """The text channel on a page's words (``text_predict.FastText``)."""

    def farm_scores(self, docs: list[list[str]]) -> np.ndarray: ...

    def top_terms(self, words: list[str], n: int = 3) -> list[str]: ...


@dataclass
class Scorer:
    """Trust, label and reasons for pages, from a fitted model's numbers.

    ``keep`` selects the classifier's columns from the feature matrix (``feature_names`` order; the
    text channel's column, when there is one, is the last); ``reference`` holds per-mode typical
    legit values (``"html"``, ``"text"``) that reasons compare a page against.
    """

    feature_names: list[str]
    families: list[str] | None
    domain_lists: bool
    keep: np.ndarray
    classifier: Classifier
    text: TextChannel | None
    threshold: float
    reference: dict[str, np.ndarray]

    # ----- features -----------------------------------------------------------------

    def signal_row(self, page: Page) -> list[float]:
        """The page's feature row (the text channel's column, if any, is nan until ``add_text_scores``)."""
        values = page_features(page, self.families, self.domain_lists)
        return [values.get(n, np.nan) for n in self.feature_names]

    def add_text_scores(self, F: np.ndarray, pages: list[Page]) -> list[list[str]] | None:
        """Fill the text channel's column (the last) in place for all pages at once; returns the
        pages' words (reasons quote them), or None for a model without a text channel."""
        if self.text is None:
            return None
        docs = [page_words(p) for p in pages]
        if docs:
            F[:, -1] = self.text.farm_scores(docs)
        return docs

    # ----- probabilities --------------------------------------------------------------

    def farm_proba_features(self, F: np.ndarray) -> np.ndarray:
        """Calibrated P(farm) per row of a feature matrix."""
        return self.classifier.farm_proba(np.asarray(F, dtype=np.float64)[:, self.keep])

    def farm_log_odds_features(self, F: np.ndarray) -> np.ndarray:
        """Uncalibrated log-odds of farm from the first calibration fold's boosted model.

        Reasons use these rather than calibrated probabilities: isotonic calibration is flat near
        0 and 1, so a blatant farm's probability would not move when one sign is taken away.
        One fold's model is enough to rank the families and costs a fifth of all five.
        """
        return self.classifier.log_odds(np.asarray(F, dtype=np.float64)[:, self.keep])

    def contributions(self, F: np.ndarray) -> list[dict[str, float]]:
        """For each row, how much each reason group pushes the page towards farm (in log-odds).

        Two views, batched in one predict: occlusion (the page with the group set to the typical
        legit value of its mode: how much is lost) and insertion (a typical legit page given just
        this group: how much it alone adds). The larger counts, so signs that repeat each other
        on a blatant farm are each still credited.
        """
        names = self.feature_names
        groups = reasons_mod.groups_for(names)
        if not len(F) or not groups:
            return [{} for _ in range(len(F))]
        text_col = names.index(TEXT_MODE_FEATURE) if TEXT_MODE_FEATURE in names else None
        modes = ["text" if text_col is not None and row[text_col] == 1.0 else "html" for row in F]
        refs = np.vstack([self.reference["html"], self.reference["text"]])
        R = refs[[1 if m == "text" else 0 for m in modes]]  # each row's reference
        masks = np.zeros((len(groups), F.shape[1]), dtype=bool)
        for g, cols in enumerate(groups.values()):
            masks[g, cols] = True
        # per row and group: the row with the group's columns from the reference (occluded), and
        # the reference with the group's columns from the row (inserted), in that order
        occluded = np.where(masks[None], R[:, None], F[:, None])
        inserted = np.where(masks[None], F[:, None], R[:, None])
        rows = np.stack([occluded, inserted], axis=2).reshape(-1, F.shape[1])
        # One predict for everything: the trees are walked once for all rows.
        scored = self.farm_log_odds_features(np.vstack([refs, F, rows]))
        ref_score = dict(zip(("html", "text"), scored[:2]))
        base = scored[2:2 + len(F)]
        scores = scored[2 + len(F):].reshape(len(F), len(groups), 2)
        out = []
        for i, mode in enumerate(modes):
            drop = base[i] - scores[i, :, 0]
            gain = scores[i, :, 1] - ref_score[mode]
            out.append(dict(zip(groups, np.maximum(drop, gain).tolist())))
        return out

    # ----- scoring --------------------------------------------------------------------

    def score_features(self, F: np.ndarray, *, with_reasons: bool = True,
                       docs: list[list[str]] | None = None) -> list[dict]:
        """Trust, label and reasons for rows of a feature matrix (``docs``: the rows' words,
        ``text_predict.page_words``, to quote the text channel's farm-like words in the reasons)."""
        p = self.farm_proba_features(F) if len(F) else np.array([])
        contribs = self.contributions(F) if with_reasons else [{} for _ in range(len(F))]
        names = self.feature_names
        quote = with_reasons and docs is not None and self.text is not None
        out = []
        for i in range(len(F)):
            label = FARM if p[i] >= self.threshold else TRUSTWORTHY
            reasons = []
            if with_reasons:
                details = {"text_model": partial(_quoted_terms, self.text.top_terms, docs[i])} if quote else None
                reasons = reasons_mod.explain(dict(zip(names, F[i])), contribs[i], farm=label == FARM, details=details)
            out.append({"trust": round(float(1.0 - p[i]), 4), "label": label, "reasons": reasons})
        return out

    def score_pages(self, pages: list[Page | None], *, with_reasons: bool = True) -> list[dict]:
        """Score pages; a page whose signals fail gets an error record, the others still score."""
        rows, ok, errors = [], [], {}
        for i, page in enumerate(pages):
            if page is None:
                errors[i] = "no page"
                continue
            try:
                rows.append(self.signal_row(page))
                ok.append(i)
            except Exception as exc:  # noqa: BLE001 - isolate the failure to this record
                errors[i] = f"signals failed: {type(exc).__name__}: {exc}"[:300]
        F = np.array(rows, dtype=np.float64).reshape(len(rows), len(self.feature_names))
        docs = self.add_text_scores(F, [pages[i] for i in ok])
        scored = self.score_features(F, with_reasons=with_reasons, docs=docs) if rows else []
        out: list[dict] = [{} for _ in pages]
        for i, result in zip(ok, scored):
            page = pages[i]
            notes = page.notes if page.lines else [*page.notes, _NO_TEXT[bool(page.title)]]
            if notes:
                result["reasons"] = result["reasons"] + [f"note: {n}" for n in notes]
            out[i] = {**result, "error": None}
        for i, msg in errors.items():
            out[i] = {"trust": None, "label": None, "reasons": [], "error": msg}
        return out


# A page that shows no text (a script-rendered shell, a frameset) scores high for want of signs,
# not on evidence: say so beside the score.
_NO_TEXT = ("no visible text: the score rests on the markup alone",
            "no visible text beyond the title: the score rests on the title and markup alone")


def _quoted_terms(top_terms, words: list[str]) -> str:
    return ", ".join(f"'{t}'" for t in top_terms(words))


# ----- the file beside the model -------------------------------------------------------------

def scorer_path(model_path: str | Path) -> Path:
    """Where the scorer of the model file ``model_path`` is kept: ``default.joblib`` -> ``default.scorer.xz``."""
    path = Path(model_path)
    return path.with_name(path.stem + SCORER_SUFFIX)


def _file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_scorer(scorer: Scorer, model_path: str | Path) -> Path:
    """Save ``scorer`` beside the model file it was built from (which must already be written)."""
    out = scorer_path(model_path)
    tmp = out.with_name(f".{out.name}.tmp")
    with lzma.open(tmp, "wb", preset=6) as fh:
        pickle.dump({"model_sha256": _file_sha256(model_path), "scorer": scorer}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(out)
    return out


def read_scorer(model_path: str | Path) -> Scorer | None:
    """The scorer saved beside ``model_path``; None when there is none or it was built from another
    version of the model file (the file was replaced since), so the caller builds it afresh."""
    path = scorer_path(model_path)
    if not path.is_file():
        return None
    with lzma.open(path, "rb") as fh:
        data = pickle.load(fh)
    return data["scorer"] if data.get("model_sha256") == _file_sha256(model_path) else None
