"""Run every experiment in one process (the corpus and feature matrix are loaded once), then, with
``--report``, write the report. ``make experiments`` runs this; ``--quick`` is a smoke run.

    python -m experiments.run_all                    # full corpus (~40 trainings of the shipped model)
    python -m experiments.run_all --quick --report   # 120 stories: a smoke run
    python -m experiments.run_all --only baselines ablations
"""

from __future__ import annotations

import os

# One OpenMP thread per process unless told otherwise: on a shared 2-core machine spinning OpenMP
# threads cost more than they give (the project's scoring workers do the same).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402

from experiments import ablations, baselines, generalisation, learning_curve, operating_points, robustness  # noqa: E402
from experiments.common import data_from_args, parser, say  # noqa: E402

STEPS = {
    "baselines": lambda d, a: (baselines.run_model(d, a.seed), baselines.run_baselines(d, seed=a.seed, workers=a.workers)),
    "ablations": lambda d, a: ablations.run_ablations(d, a.seed),
    "generalisation": lambda d, a: (generalisation.leave_one_family_out(d, a.seed), generalisation.across_modes(d, a.seed),
                                    generalisation.leave_one_source_out(d, a.seed),
                                    generalisation.tfidf_leave_one_family_out(d, a.seed)),
    "learning_curve": lambda d, a: learning_curve.run_learning_curve(d, a.seed),
    "robustness": lambda d, a: robustness.run_robustness(d, a.seed),
    "operating_points": lambda d, a: operating_points.run_operating_points(d, a.seed),  # after baselines: reuses model-full
}


def main(argv: list[str] | None = None) -> None:
    ap = parser("run every spamdetect experiment")
    ap.add_argument("--only", nargs="+", choices=list(STEPS), default=list(STEPS))
    ap.add_argument("--report", action="store_true", help="write experiments/REPORT.md afterwards")
    args = ap.parse_args(argv)
    t0 = time.time()
    data = data_from_args(args)
    for name in args.only:
        t = time.time()
        say(f"== {name}")
        STEPS[name](data, args)
        say(f"== {name} done in {time.time() - t:.0f}s")
    say(f"all experiments done in {time.time() - t0:.0f}s")
    if args.report:
        from experiments.report import build_report

        print(build_report(scope=data.scope))


if __name__ == "__main__":
    main()
