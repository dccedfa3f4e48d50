"""Experiment 1: the spamdetect model against simpler ways to catch farms, on the same split.

Runs (MLflow experiment ``spamdetect-experiments``):
- ``model-full``: the shipped model (``train_model``) on the standard train split; also logs the model
  file and the real legitimate test pages it scores most farm-like, with their reasons;
- ``baseline-tfidf-logreg``: TF-IDF (word 1-2 grams) + logistic regression on the page text;
- ``baseline-gopher-quality``, ``baseline-gopher-repetition``, ``baseline-c4-lines``,
  ``baseline-fineweb-lines``, ``baseline-fineweb-pipeline`` (all three in a row, as FineWeb runs
  them): the published rules as hard filters (``experiments/rules.py``), on trafilatura's main text
  for HTML rows (FineWeb's extraction) and on the text itself for text rows (C4 read WET text);
- ``baseline-domain-lists``: only public domain-list membership of the page's host;
- ``baseline-trafilatura-rules``: trafilatura main text vs the whole page, plus simple rules.

Score baselines get a threshold chosen like the model's (FPR <= 0.5% on validation legit pages);
hard filters have none: their precision/recall/FPR and AUC are those of the binary verdict.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import re

import numpy as np
import pandas as pd

from experiments import rules
from experiments.common import (Data, data_from_args, evaluate_scores, evaluate_verdicts, fit_and_evaluate,
                                log_result, parser, say, summary_line, work_dir)

N_WORST = 25


# ----- the model itself ---------------------------------------------------------------------------

def worst_real_legit(data: Data, result, test: np.ndarray, n: int = N_WORST) -> pd.DataFrame:
    """The real legitimate test pages the model finds most farm-like, with its reasons."""
    t = data.df[test].reset_index(drop=True)
    real = np.flatnonzero((t["variant"] == "legit").to_numpy())
    order = real[np.argsort(-result.p_test[real])][:n]
    scored = result.model.score_features(data.model_matrix(result.model, np.flatnonzero(test)[order]))
    return pd.DataFrame({
        "doc_id": t["doc_id"].iloc[order].to_numpy(), "url": t["url"].iloc[order].to_numpy(),
        "source": t["source"].iloc[order].to_numpy(), "mode": t["mode"].iloc[order].to_numpy(),
        "lang": t["lang"].iloc[order].to_numpy(), "p_farm": np.round(result.p_test[order], 4),
        "false_positive": result.p_test[order] >= result.threshold,
        "reasons": [" | ".join(s["reasons"]) for s in scored],
    })


def run_model(data: Data, seed: int = 0) -> dict:
    train, test = data.mask("train"), data.mask("test")
    res = fit_and_evaluate(data, train, test, seed=seed)
    say(summary_line("model-full", res.metrics))
    model_path = res.model.save(work_dir() / f"model-full-{data.scope}.joblib")  # xz-compressed: saved once
    log_result("model-full", res.metrics, {"families": "all", "threshold": res.threshold, "seed": seed},
               {"model": model_path, "worst_false_positives": worst_real_legit(data, res, test)},
               data=data, kind="model")
    return res.metrics


# ----- TF-IDF + logistic regression ------------------------------------------------------------------

def doc_texts(data: Data) -> pd.Series:
    """Each row's page text: the text rendering of its document (text rows carry it for both modes)."""
    text_rows = data.df[data.df["mode"] == "text"]
    by_doc = dict(zip(text_rows["doc_id"], text_rows["text"].fillna("")))
    return data.df["doc_id"].map(by_doc).fillna("")


def tfidf_scores(data: Data, texts: pd.Series, train: np.ndarray, seed: int = 0) -> np.ndarray:
    """P(farm) of every row from TF-IDF + logistic regression fitted on the train rows' documents."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    docs = data.df.assign(text_=texts.to_numpy())[train].drop_duplicates("doc_id")
    pipe = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_df=0.9, max_features=300_000,
                        dtype=np.float32),
        LogisticRegression(C=4.0, max_iter=2000, solver="liblinear", random_state=seed))
    pipe.fit(docs["text_"], docs["label"])
    uniq = data.df.assign(text_=texts.to_numpy()).drop_duplicates("doc_id")
    p = dict(zip(uniq["doc_id"], pipe.predict_proba(uniq["text_"])[:, 1]))
    return data.df["doc_id"].map(p).to_numpy(dtype=float)


# ----- published rules -----------------------------------------------------------------------------

def _rule_row(item: tuple[str, str | None]) -> dict[str, str | None]:
    text, lang = item
    out = {}
    for name, fn in rules.RULE_SETS.items():
        keep, reason = fn(text, lang=lang) if name == "gopher-quality" else fn(text)
        out[name] = None if keep else reason
    return out


def rule_verdicts(data: Data, rule_texts: pd.Series, workers: int = 2) -> pd.DataFrame:
    """Per row and rule set: the reason it drops the page, or None when kept."""
    items = list(zip(rule_texts.fillna(""), data.df["lang"].where(data.df["lang"].notna(), None)))
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            rows = pool.map(_rule_row, items, chunksize=64)
    else:
        rows = [_rule_row(it) for it in items]
    return pd.DataFrame(rows, index=data.df.index)


def reason_counts(data: Data, reasons: pd.Series, test: np.ndarray) -> pd.DataFrame:
    t = data.df[test].assign(reason=reasons[test].fillna("kept").to_numpy())
    return t.groupby(["variant", "reason"]).size().rename("rows").reset_index()


# ----- domain lists ---------------------------------------------------------------------------------

def domain_list_scores(data: Data) -> np.ndarray:
    """max(content-farm list weight, 0.75 x unreliable-news membership) of the page's host; 0 without a URL
    or when the lists are absent. The lists are those of ``spamdetect.signals.domain.list_features``."""
    from urllib.parse import urlsplit

    from spamdetect.signals.domain import list_features

    cache: dict[str, float] = {}
    out = np.zeros(len(data.df))
    for i, url in enumerate(data.df["url"]):
        if not isinstance(url, str) or not url:
            continue
        host = (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
        if host not in cache:
            f = list_features(host)
            farm, unreliable = f["domain.in_farm_list"], f["domain.in_unreliable_list"]
            cache[host] = 0.0 if np.isnan(farm) else max(farm, 0.75 * unreliable)
        out[i] = cache[host]
    return out


def farm_domains_from_lists(data: Data) -> float:
    """Share of farm documents whose (simulated) site domain was drawn from the content-farm lists."""
    from spamdetect.config import corpus_dir
    from spamdetect.corpus.fakes import load_blocklist_domains

    listed = set(load_blocklist_domains(str(corpus_dir())))
    farms = data.df[data.df["label"] == 1]
    doms = [json.loads(d).get("site_domain") for d in farms["details"]] if "details" in farms else []
    return float(np.mean([d in listed for d in doms])) if doms else float("nan")


# ----- trafilatura + rules ----------------------------------------------------------------------------

# Headings of link lists that are not the story ("Related", "Trending", "You may also like"), in the
# corpus's main languages; an on-topic related list is legitimate, so these only add up with the rest.
_LIST_HEADING = re.compile(
    r"^(related|trending|popular|most (read|popular|viewed)|recommended|you (may|might) (also )?like|read (more|next|also)"
    r"|more (from|stories|news|on)|don'?t miss|latest (news|posts)|top stories|also read|see also"
    r"|weitere|ähnliche|lesen sie auch|auch interessant|meistgelesen|das könnte|mehr zum thema"
    r"|à lire aussi|lire aussi|sur le même sujet|articles similaires|te puede interesar|más leídas|relacionad"
    r"|noticias relacionadas|leggi anche|potrebbe interessarti|przeczytaj (też|także)|zobacz (też|także))",
    re.I)
_TERMINAL = (".", "!", "?", '"', "'", "”", "»", ":")


def trafilatura_rule_features(full: str, main: str) -> dict[str, float]:
    """Boilerplate share (visible text trafilatura drops), list headings and headline-like lines outside
    the main text, and the main text's length."""
    full_lines = [ln.strip() for ln in full.splitlines() if ln.strip()]
    main_set = {ln.strip() for ln in main.splitlines() if ln.strip()}
    outside = [ln for ln in full_lines if ln not in main_set]
    full_chars = sum(map(len, full_lines)) or 1
    main_chars = sum(map(len, main_set))
    headings = [bool(_LIST_HEADING.match(ln)) and len(ln.split()) <= 6 for ln in outside]
    return {
        "boilerplate_share": float(min(1.0, max(0.0, 1.0 - main_chars / full_chars))),
        "list_headings": float(sum(headings)),
        "headline_lines": float(sum(4 <= len(ln.split()) <= 16 and not ln.endswith(_TERMINAL) and not h
                                    for ln, h in zip(outside, headings))),
        "main_words": float(len(main.split())),
    }


def trafilatura_rule_score(f: dict[str, float]) -> float:
    """(Rules fired (boilerplate over 60%, 2+ list headings, 15+ headline-like lines outside the story,
    story under 150 words) plus half the boilerplate share to break ties) / 4.5."""
    fired = (f["boilerplate_share"] > 0.6) + (f["list_headings"] >= 2) + (f["headline_lines"] >= 15) + (
        f["main_words"] < 150)
    return (float(fired) + 0.5 * f["boilerplate_share"]) / 4.5  # in [0, 1], like a probability


# ----- run everything -----------------------------------------------------------------------------------

def run_baselines(data: Data, *, seed: int = 0, workers: int = 2) -> dict[str, dict]:
    from experiments.extraction import main_texts

    train, val, test = data.mask("train"), data.mask("val"), data.mask("test")
    results: dict[str, dict] = {}

    def log(name: str, res, params: dict, artifacts: dict | None = None) -> None:
        say(summary_line(name, res.metrics))
        log_result(name, res.metrics, {**params, "threshold": res.threshold}, artifacts, data=data, kind="baseline")
        results[name] = res.metrics

    texts = doc_texts(data)
    say("baseline: tf-idf + logistic regression")
    log("baseline-tfidf-logreg", evaluate_scores(data, tfidf_scores(data, texts, train, seed), val, test),
        {"baseline_type": "score", "features": "tfidf word 1-2 grams, sublinear tf, min_df 2", "classifier": "logreg C=4"})

    main = main_texts(data, workers=workers)
    is_html = (data.df["mode"] == "html").to_numpy()
    rule_texts = pd.Series(np.where(is_html, main.to_numpy(), texts.to_numpy()), index=data.df.index)
    say("baseline: published rules")
    verdicts = rule_verdicts(data, rule_texts, workers)
    names = {"gopher-quality": "baseline-gopher-quality", "gopher-repetition": "baseline-gopher-repetition",
             "c4": "baseline-c4-lines", "fineweb": "baseline-fineweb-lines"}
    for rule, run_name in names.items():
        drop = verdicts[rule].notna().to_numpy()
        log(run_name, evaluate_verdicts(data, drop, test),
            {"baseline_type": "hard filter", "rules": rule, "input": "trafilatura main text (html rows), text (text rows)"},
            {"drop_reasons": reason_counts(data, verdicts[rule], test)})
    first = verdicts[list(names)].bfill(axis=1).iloc[:, 0]  # the first rule set that drops the page
    log("baseline-fineweb-pipeline", evaluate_verdicts(data, first.notna().to_numpy(), test),
        {"baseline_type": "hard filter", "rules": "gopher-quality, gopher-repetition, c4, fineweb in a row"},
        {"drop_reasons": reason_counts(data, first, test)})

    say("baseline: domain lists")
    share = farm_domains_from_lists(data)
    res = evaluate_scores(data, domain_list_scores(data), val, test)
    res.metrics["farm_domains_from_lists_share"] = share
    log("baseline-domain-lists", res, {"baseline_type": "score", "lists": "content-farm-terminator, uBlock dev filter, "
                                        "machine-made-media, opensources, CFT fake-news/scam"})

    say("baseline: trafilatura + rules")
    feats = [trafilatura_rule_features(f, m) for f, m in zip(texts, main)]
    scores = np.array([trafilatura_rule_score(f) for f in feats])
    log("baseline-trafilatura-rules", evaluate_scores(data, scores, val, test),
        {"baseline_type": "score", "rules": "boilerplate>0.6, list headings>=2, headline lines>=15, main words<150"})
    return results


def main(argv: list[str] | None = None, data: Data | None = None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    data = data or data_from_args(args)
    run_model(data, args.seed)
    run_baselines(data, seed=args.seed, workers=args.workers)


if __name__ == "__main__":
    main()
