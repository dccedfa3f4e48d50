"""Experiment 2: what each signal family is worth. The shipped model retrained on the standard split
without each family in turn (``ablation-without-<family>``) and with each family alone
(``ablation-only-<family>``); compare with ``model-full``. The text channel counts as a family:
``ablation-without-text_model`` is the signals-only model, ``ablation-only-text_model`` the text
channel's own score (its logistic regression, thresholded like the model)."""

from __future__ import annotations

import numpy as np

from spamdetect import signals, text_model

from experiments.common import (Data, data_from_args, evaluate_scores, fit_and_evaluate, log_result, parser, say,
                                summary_line, text_fit)


def run_ablations(data: Data, seed: int = 0, families: list[str] | None = None) -> dict[str, dict]:
    families = families or list(signals.FAMILIES)
    train, test = data.mask("train"), data.mask("test")
    out = {}
    for fam in families:
        for how, subset in (("without", [f for f in signals.FAMILIES if f != fam]), ("only", [fam])):
            name = f"ablation-{how}-{fam}"
            res = fit_and_evaluate(data, train, test, families=subset, seed=seed)
            say(summary_line(name, res.metrics))
            log_result(name, res.metrics, {"families": subset, "family": fam, "ablation": how,
                                           "threshold": res.threshold, "seed": seed}, data=data, kind="ablation")
            out[name] = res.metrics
    out.update(text_ablations(data, seed))
    return out


def text_ablations(data: Data, seed: int = 0, *, log: bool = True) -> dict[str, dict]:
    """The model without its text channel, and the text channel alone (logged unless ``log=False``)."""
    train, val, test = data.mask("train"), data.mask("val"), data.mask("test")
    res = fit_and_evaluate(data, train, test, text=False, seed=seed)
    scores = np.zeros(len(data.df))
    rows = np.flatnonzero(val | test)
    scores[rows] = text_model.farm_scores_of_counts(text_fit(data, train, seed).model, data.T[rows])
    alone = evaluate_scores(data, scores, val, test)
    out = {}
    for name, r, params in (("ablation-without-text_model", res, {"families": list(signals.FAMILIES), "text": False}),
                            ("ablation-only-text_model", alone, {"families": [], "text": True})):
        say(summary_line(name, r.metrics))
        if log:
            log_result(name, r.metrics, {**params, "family": "text_model", "ablation": name.split("-")[1],
                                         "threshold": r.threshold, "seed": seed}, data=data, kind="ablation")
        out[name] = r.metrics
    return out


def main(argv: list[str] | None = None, data: Data | None = None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    run_ablations(data or data_from_args(args), args.seed)


if __name__ == "__main__":
    main()
