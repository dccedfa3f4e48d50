"""Experiment 2: what each signal family is worth. The shipped model retrained on the standard split
without each family in turn (``ablation-without-<family>``) and with each family alone
(``ablation-only-<family>``); compare with ``model-full``."""

from __future__ import annotations

from spamdetect import signals

from experiments.common import Data, data_from_args, fit_and_evaluate, log_result, parser, say, summary_line


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
    return out


def main(argv: list[str] | None = None, data: Data | None = None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    run_ablations(data or data_from_args(args), args.seed)


if __name__ == "__main__":
    main()
