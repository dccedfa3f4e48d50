"""Experiment 3: does the model catch what it has not seen?

- ``generalisation-lofo-<family>``: trained without one farm family (train and validation rows of that
  family removed), tested on that family's test farms plus all legitimate test pages;
- ``generalisation-html-to-text`` / ``generalisation-text-to-html``: trained (and thresholded) on one
  rendering of the pages, tested on the other;
- ``generalisation-source-<folder>``: trained without one corpus folder (and without any story of it),
  thresholded on the other folders' validation pages, tested on every page of that folder:
  ``fpr_real_legit`` there is the false-positive rate on publishers the model has never seen;
- ``baseline-tfidf-lofo-<family>``: the strongest baseline (TF-IDF + logistic regression on the page
  text) under the same leave-one-family-out protocol, so the table shows which of the two learns farm
  signs and which learns the wording of the farms it was shown.
"""

from __future__ import annotations

import numpy as np

from experiments.common import Data, data_from_args, fit_and_evaluate, log_result, parser, say, summary_line


def _run(data: Data, name: str, train, test, val, params: dict, seed: int) -> dict:
    res = fit_and_evaluate(data, train, test, val, seed=seed)
    res.metrics["n_test"] = float(np.sum(test))
    say(summary_line(name, res.metrics))
    log_result(name, res.metrics, {**params, "threshold": res.threshold, "seed": seed}, data=data,
               kind="generalisation")
    return res.metrics


def family_out_masks(data: Data):
    """(family, train, val, test) per farm family: train and validation without it, tested on its
    test farms plus every legitimate test page."""
    df = data.df
    legit = (df["label"] == 0).to_numpy()
    tr, va, te = data.mask("train"), data.mask("val"), data.mask("test")
    for fam in sorted(df.loc[df["label"] == 1, "family"].unique()):
        is_fam = (df["family"] == fam).to_numpy()
        yield fam, tr & ~is_fam, va & ~is_fam, te & (is_fam | legit)


def leave_one_family_out(data: Data, seed: int = 0) -> dict[str, dict]:
    out = {}
    for fam, train, val, test in family_out_masks(data):
        name = f"generalisation-lofo-{fam}"
        out[name] = _run(data, name, train, test, val, {"setting": "leave one family out", "held_out": fam}, seed)
    return out


def across_modes(data: Data, seed: int = 0) -> dict[str, dict]:
    mode = data.df["mode"].to_numpy()
    tr, va, te = data.mask("train"), data.mask("val"), data.mask("test")
    out = {}
    for src, dst in (("html", "text"), ("text", "html")):
        name = f"generalisation-{src}-to-{dst}"
        out[name] = _run(data, name, tr & (mode == src), te & (mode == dst), va & (mode == src),
                         {"setting": "train on one mode, test on the other", "train_mode": src, "test_mode": dst},
                         seed)
    return out


def leave_one_source_out(data: Data, seed: int = 0) -> dict[str, dict]:
    df = data.df
    out = {}
    for source in sorted(df["source"].unique()):
        test = (df["source"] == source).to_numpy()
        rest = ~test & ~df["group"].isin(set(df.loc[test, "group"])).to_numpy()
        train, val = rest & ~data.mask("val"), rest & data.mask("val")
        name = f"generalisation-source-{source}"
        out[name] = _run(data, name, train, test, val,
                         {"setting": "leave one corpus folder out", "held_out": source}, seed)
    return out


def tfidf_leave_one_family_out(data: Data, seed: int = 0) -> dict[str, dict]:
    from experiments.baselines import doc_texts, tfidf_scores
    from experiments.common import evaluate_scores

    texts = doc_texts(data)
    out = {}
    for fam, train, val, test in family_out_masks(data):
        name = f"baseline-tfidf-lofo-{fam}"
        res = evaluate_scores(data, tfidf_scores(data, texts, train, seed), val, test)
        say(summary_line(name, res.metrics))
        log_result(name, res.metrics, {"setting": "leave one family out", "held_out": fam, "baseline_type": "score",
                                       "threshold": res.threshold, "seed": seed}, data=data, kind="generalisation")
        out[name] = res.metrics
    return out


def main(argv: list[str] | None = None, data: Data | None = None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    data = data or data_from_args(args)
    leave_one_family_out(data, args.seed)
    across_modes(data, args.seed)
    leave_one_source_out(data, args.seed)
    tfidf_leave_one_family_out(data, args.seed)


if __name__ == "__main__":
    main()
