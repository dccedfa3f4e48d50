"""Command line: argument parsing only; the work happens in the modules it calls."""

from __future__ import annotations

import argparse
import json
import os
import sys


def _cmd_score(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        from spamdetect.spark_engine import cli_main

        return cli_main(args)
    from spamdetect.batch import score_to_file

    try:
        summary = score_to_file(args.inputs, args.output, fmt=args.format, workers=args.workers,
                                model_uri=args.model, progress=not args.quiet)
    except (FileNotFoundError, OSError, ValueError) as exc:
        print(f"spamdetect score: {exc}", file=sys.stderr)
        return 2
    print(summary.line(), file=sys.stderr)
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from spamdetect.train import run_training

    result = run_training(corpus=args.corpus, seed=args.seed, limit=args.limit, workers=args.workers,
                          domain_lists=args.domain_lists, holdout_families=args.holdout_families,
                          save_to=args.save_to, register=not args.no_register, run_name=args.run_name)
    print(json.dumps(result, indent=2))
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from spamdetect.loading import load_model
    from spamdetect.readers import read_inputs

    model = load_model(args.model)
    status = 0
    for rec in read_inputs([args.page]):
        if rec.error is not None:
            print(json.dumps({"id": rec.id, "error": rec.error}, indent=2))
            status = 1
            continue
        report = {"id": rec.id, "url": rec.page.url, **model.explain(rec.page)}
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return status


def _cmd_filter(args: argparse.Namespace) -> int:
    from spamdetect.filtering import cli_main

    return cli_main(args)


def _cmd_serve(args: argparse.Namespace) -> int:
    from spamdetect.serve import cli_main

    return cli_main(args)


def _cmd_sites(args: argparse.Namespace) -> int:
    from spamdetect.sites import cli_main

    return cli_main(args)


def _cmd_promote(args: argparse.Namespace) -> int:
    from spamdetect.promote import cli_main

    return cli_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spamdetect", description="Score crawled pages for trustworthiness.")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="score pages: html files, directories, WARC/WET, JSONL ('-' = stdin), txt")
    score.add_argument("inputs", nargs="+")
    score.add_argument("-o", "--output", required=True, help="output file ('-' = stdout JSONL)")
    score.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="default: from the output suffix")
    score.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    score.add_argument("--model", default=os.environ.get("SPAMDETECT_MODEL"),
                       help="model: a .joblib file or an MLflow URI such as models:/spamdetect@champion "
                            "(default: the model shipped in the package)")
    score.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    # --- spark options (owner: spamdetect/spark_engine.py) ---
    score.add_argument("--engine", choices=["local", "spark"], default="local",
                       help="local: worker processes on this machine; spark: Apache Spark (Parquet output)")
    score.add_argument("--spark-master", default=None, help="Spark master URL (default: local[*] or spark-submit's)")
    score.set_defaults(func=_cmd_score)

    train = sub.add_parser("train", help="build the labeled corpus, train, evaluate, record the run in MLflow")
    train.add_argument("--corpus", default=None, help="shared corpus folder (default: $SPAMDETECT_CORPUS or ../shared/corpus)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--limit", type=int, default=None, help="use only the first N real pages (quick runs)")
    train.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    train.add_argument("--domain-lists", action="store_true", help="include public domain-list lookups as features")
    train.add_argument("--holdout-families", action="store_true",
                       help="also measure AUC on each farm family when it is held out of training")
    train.add_argument("--save-to", default=None, help="also save the model file here (make model: the shipped model)")
    train.add_argument("--no-register", action="store_true", help="log the run but do not register the model")
    train.add_argument("--run-name", default=None)
    train.set_defaults(func=_cmd_train)

    explain = sub.add_parser("explain", help="score one page and show every signal and the reasons")
    explain.add_argument("page", help="an html/txt file, or a WARC/JSONL (every record is explained)")
    explain.add_argument("--model", default=os.environ.get("SPAMDETECT_MODEL"))
    explain.set_defaults(func=_cmd_explain)

    # --- filter (owner: spamdetect/filtering.py) ---
    filt = sub.add_parser("filter", help="pipe stage: keep trustworthy JSONL records, divert farms")
    filt.add_argument("inputs", nargs="*", help="JSONL files (default: stdin)")
    filt.add_argument("--threshold", type=float, default=None, help="reject when P(farm) >= T (default: the model's)")
    filt.add_argument("--rejected", default=None, help="write rejected records here (JSONL)")
    filt.add_argument("--model", default=os.environ.get("SPAMDETECT_MODEL"))
    filt.set_defaults(func=_cmd_filter)

    # --- serve (owner: spamdetect/serve.py) ---
    serve = sub.add_parser("serve", help="serve the model over HTTP with MLflow's scoring server")
    serve.add_argument("--model", default=None, help="MLflow model URI (default: models:/spamdetect@champion)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5001)
    serve.set_defaults(func=_cmd_serve)

    # --- sites (owner: spamdetect/sites.py) ---
    sites = sub.add_parser("sites", help="aggregate page scores into site verdicts by registrable domain")
    sites.add_argument("scores", nargs="+", help="score files written by `spamdetect score` (jsonl/csv/parquet)")
    sites.add_argument("-o", "--output", required=True, help="sites table (.csv/.jsonl/.parquet)")
    sites.add_argument("--html", default=None, help="also write an HTML report here")
    sites.add_argument("--blocklist", default=None, help="also write farm domains, one per line, here")
    sites.set_defaults(func=_cmd_sites)

    # --- promote (owner: spamdetect/promote.py) ---
    promote = sub.add_parser("promote", help="move the champion alias to a candidate only if it is not worse")
    promote.add_argument("candidate", help="a run id, a model version number, or a models:/ URI")
    promote.set_defaults(func=_cmd_promote)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
