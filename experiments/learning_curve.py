"""Experiment 4: metrics against training-set size. The shipped model trained on a growing share of the
training stories (all variants and both modes of a story together), thresholded on the full validation
split and tested on the full test split. Runs: ``learning-curve-<percent>pct``."""

from __future__ import annotations

import hashlib

import numpy as np

from experiments.common import Data, data_from_args, fit_and_evaluate, log_result, parser, say, summary_line

FRACTIONS = (0.05, 0.1, 0.2, 0.4, 0.7, 1.0)


def story_subset(data: Data, rows: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """The rows of ``rows`` whose story falls in a deterministic ``fraction`` of its stories (nested:
    a smaller fraction's stories are a subset of a larger one's)."""
    groups = data.df["group"]
    rank = groups.map(lambda g: int(hashlib.sha256(f"{seed}|curve|{g}".encode()).hexdigest()[:12], 16) / 16 ** 12)
    return rows & (rank < fraction).to_numpy()


def run_learning_curve(data: Data, seed: int = 0, fractions=FRACTIONS) -> dict[str, dict]:
    train, test = data.mask("train"), data.mask("test")
    out = {}
    for frac in fractions:
        rows = story_subset(data, train, frac, seed) if frac < 1 else train
        if data.df.loc[rows, "group"].nunique() < 10 or len(set(data.y[rows])) < 2:
            say(f"learning curve: {frac:.0%} of the training stories is too few; skipped")
            continue
        name = f"learning-curve-{round(frac * 100):03d}pct"
        res = fit_and_evaluate(data, rows, test, seed=seed)
        res.metrics["train_fraction"] = frac
        res.metrics["n_train_stories"] = float(data.df.loc[rows, "group"].nunique())
        say(summary_line(name, res.metrics))
        log_result(name, res.metrics, {"train_fraction": frac, "threshold": res.threshold, "seed": seed},
                   data=data, kind="learning-curve")
        out[name] = res.metrics
    return out


def main(argv: list[str] | None = None, data: Data | None = None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    run_learning_curve(data or data_from_args(args), args.seed)


if __name__ == "__main__":
    main()
