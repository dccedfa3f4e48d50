"""Command line: argument parsing only; the work happens in the modules it calls."""

from __future__ import annotations

import argparse
import json
import os
import sys


def _at_least(minimum: int, at_most: int | None = None):
    """An argparse type: an integer of at least ``minimum`` (a negative worker count is a typo, not "all")
    and, when given, at most ``at_most``."""
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {value}")
        if at_most is not None and value > at_most:
            raise argparse.ArgumentTypeError(f"must be {at_most} or less, got {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its "invalid integer value" message
    return parse


def _probability(above: float | None = None):
    """An argparse type: a number in [0, 1], or in (``above``, 1] (a posterior threshold at or under
    0.5 would let two opposite labels both pass)."""
    def parse(text: str) -> float:
        value = float(text)
        low_ok = value >= 0 if above is None else value > above
        if not (low_ok and value <= 1):
            raise argparse.ArgumentTypeError(f"must lie in {'[0' if above is None else f'({above}'}, 1], got {text}")
        return value

    parse.__name__ = "number"
    return parse


def _cmd_score(args: argparse.Namespace) -> int:
    from spamdetect.readers import read_path_list

    try:
        args.inputs = [*args.inputs, *(p for listed in args.inputs_from for p in read_path_list(listed))]
    except (OSError, ValueError) as exc:
        print(f"spamdetect score: {exc}", file=sys.stderr)
        return 2
    if not args.inputs:
        print("spamdetect score: no inputs: give files, directories or '-', or --inputs-from a list of them"
              + (f" ({', '.join(args.inputs_from)} names none)" if args.inputs_from else ""), file=sys.stderr)
        return 2
    if args.engine == "spark":
        from spamdetect.spark_engine import cli_main

        return cli_main(args)
    if args.workers != 0:
        from spamdetect.pools import pool_context

        pool_context()  # the workers' server imports the scoring code while this process does
    from spamdetect.batch import cli_main

    return cli_main(args)


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
    if args.workers != 0:
        from spamdetect.pools import pool_context

        pool_context()  # as for score: the workers' server imports while this process loads the model
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

    score = sub.add_parser("score", help="score pages: html files, directories, WARC/WET, JSONL, txt; "
                                         "'-' = stdin (JSONL or WARC/WET, gzipped or not)")
    score.add_argument("inputs", nargs="*", help="files, directories or quoted globs ('crawl/**/*.warc.gz'); '-' = stdin")
    score.add_argument("--inputs-from", action="append", default=[], metavar="LIST",
                       help="a file listing input paths, one per line, gzipped or not (such as Common Crawl's "
                            "warc.paths.gz); read after the inputs given as arguments; may be repeated")
    score.add_argument("-o", "--output", required=True,
                       help="output file: .jsonl, .jsonl.gz, .csv or .parquet ('-' = stdout JSONL)")
    score.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="default: from the output suffix")
    score.add_argument("--workers", type=_at_least(0), default=None,
                       help="worker processes (default: all cores; 0 = score in this process)")
    score.add_argument("--resume", action="store_true",
                       help="continue a run that was stopped or killed: same inputs, same output; "
                            "records already in the output are skipped")
    score.add_argument("--overwrite", action="store_true", help="replace an output that already holds results")
    score.add_argument("--model", default=os.environ.get("SPAMDETECT_MODEL"),
                       help="model: a .joblib file or an MLflow URI such as models:/spamdetect@champion "
                            "(default: the model shipped in the package)")
    score.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    # --- spark options (owner: spamdetect/spark_engine.py) ---
    score.add_argument("--engine", choices=["local", "spark"], default="local",
                       help="local: worker processes on this machine; spark: Apache Spark (Parquet output)")
    score.add_argument("--spark-master", default=None, help="Spark master URL (default: local[*] or spark-submit's)")
    score.add_argument("--files-per-job", type=_at_least(1), default=None,
                       help="spark: input files per committed Spark job (default: 2 x the cluster's cores)")
    score.set_defaults(func=_cmd_score)

    train = sub.add_parser("train", help="build the labeled corpus, train, evaluate, record the run in MLflow")
    train.add_argument("--corpus", default=None, help="shared corpus folder (default: $SPAMDETECT_CORPUS or ../shared/corpus)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--limit", type=_at_least(1), default=None, help="use only the first N real pages (quick runs)")
    train.add_argument("--workers", type=_at_least(1), default=os.cpu_count() or 1)
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
    filt = sub.add_parser(
        "filter", help="pipe stage: keep trustworthy JSONL records, divert farms",
        description="Read JSONL records ({html|text, url?, id?, ...}) and write each one exactly once, in input "
                    "order: kept records to stdout, rejected ones to --rejected FILE, both with trust, label and "
                    "reasons added. Records that cannot be scored (bad JSON, neither html nor text) are rejected "
                    "with an 'error' field: a spam filter must not pass what it could not check. The summary on "
                    "stderr gives in = kept + rejected. Exit status: 0; 141 when the reader of stdout goes away "
                    "(e.g. | head); 143 after SIGTERM (the batches in progress are finished and flushed first); 1 when a "
                    "write fails (a full disk); 2 when it "
                    "cannot start (an output that is also an input, an unwritable --rejected FILE, no model).")
    filt.add_argument("inputs", nargs="*", help="JSONL files, gzipped or not ('-' or nothing = stdin)")
    filt.add_argument("--threshold", type=_probability(), default=None,
                      help="reject when P(farm) >= T, i.e. trust <= 1-T (default: the model's own threshold)")
    filt.add_argument("--rejected", default=None,
                      help="write rejected records here (JSONL, gzipped when the name ends in .gz); "
                           "without it they are counted and dropped")
    filt.add_argument("--batch-size", type=_at_least(1), default=16,
                      help="records scored together (default 16): larger is slightly faster per page, "
                           "smaller gives lower latency; both outputs are flushed after every batch")
    filt.add_argument("--workers", type=_at_least(0), default=None,
                      help="worker processes (default: all cores; 0 = score in this process)")
    filt.add_argument("--max-wait", type=float, default=0.2,
                      help="seconds an incomplete batch waits for more input before it is scored (default 0.2)")
    filt.add_argument("--model", default=os.environ.get("SPAMDETECT_MODEL"),
                      help="a .joblib file or MLflow URI (default: $SPAMDETECT_MODEL, else the registry's "
                           "champion when $MLFLOW_TRACKING_URI is set, else the shipped model)")
    filt.set_defaults(func=_cmd_filter)

    # --- serve (owner: spamdetect/serve.py) ---
    serve = sub.add_parser("serve", help="serve the model over HTTP with MLflow's scoring server")
    serve.add_argument("--model", default=None,
                       help="MLflow model URI or .joblib file (default: $SPAMDETECT_MODEL, else "
                            "models:/spamdetect@champion when $MLFLOW_TRACKING_URI is set and has it, "
                            "else the shipped model)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_at_least(0, at_most=65535), default=5001)
    serve.add_argument("--workers", type=_at_least(1), default=1, help="uvicorn worker processes (default 1)")
    serve.add_argument("--timeout", type=_at_least(1), default=None,
                       help="seconds before a request is answered 504 (MLflow's default: 60)")
    serve.set_defaults(func=_cmd_serve)

    # --- sites (owner: spamdetect/sites.py) ---
    sites = sub.add_parser(
        "sites", help="aggregate page scores into site verdicts by registrable domain",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Group page scores by site (registrable domain, private suffixes such as blogspot.com "
                    "included) and give each site a verdict.",
        epilog="label rule: with k of n scored pages flagged (page label farm) and a Beta(a, b) prior, the site's\n"
               "flagged share s has posterior Beta(a + k, b + n - k).\n"
               "  farm     P(s > 0.5) >= --threshold        confidence = P(s > 0.5)\n"
               "  legit    P(s < 0.5) >= --threshold        confidence = P(s < 0.5)\n"
               "  mixed    neither, P(0.2 <= s <= 0.8) >= --threshold\n"
               "  unknown  too few pages to tell, or no scored page\n"
               "Confidence grows with the page count: with the uniform prior 1 flagged of 1 gives 0.75 (unknown),\n"
               "3 of 3 gives 0.94, 40 of 50 gives ~1. Error rows are counted (per site when the url parses), never\n"
               "used for trust. The blocklist holds farm sites with confidence >= --block-confidence and at least\n"
               "--min-pages scored pages, one domain per line (match subdomains too), after '#' comment lines.")
    sites.add_argument("scores", nargs="+",
                       help="score files written by `spamdetect score` (.jsonl[.gz] ('-' = stdin, gzipped or not), .csv, .parquet), "
                            "or the Parquet directory `score --engine spark` writes")
    sites.add_argument("-o", "--output", required=True, help="sites table (.csv/.jsonl/.parquet; '-' = CSV on stdout)")
    sites.add_argument("--html", default=None, help="also write a self-contained HTML report here")
    sites.add_argument("--blocklist", default=None, help="also write farm domains, one per line, here")
    sites.add_argument("--threshold", type=_probability(above=0.5), default=0.9,
                       help="posterior probability a farm/legit/mixed label needs (default 0.9)")
    sites.add_argument("--prior", choices=["uniform", "base-rate"], default="uniform",
                       help="Beta prior on a site's flagged share: uniform Beta(1,1) (default) or Beta(2r, 2(1-r)) "
                            "with r the flagged share of all input pages")
    sites.add_argument("--block-confidence", type=_probability(), default=0.95,
                       help="blocklist: minimum confidence of a farm site (default 0.95)")
    sites.add_argument("--min-pages", type=_at_least(1), default=3, help="blocklist: minimum scored pages of a site (default 3)")
    sites.add_argument("--blocklist-header", action=argparse.BooleanOptionalAction, default=True,
                       help="start the blocklist with '#' comment lines saying how it was made (default: yes)")
    sites.add_argument("--report-rows", type=_at_least(1), default=2000, help="most sites in the HTML table (default 2000)")
    sites.set_defaults(func=_cmd_sites)

    # --- promote (owner: spamdetect/promote.py) ---
    promote = sub.add_parser(
        "promote", help="move the champion alias to a candidate only if it is not worse",
        description="Score the candidate and the current spamdetect@champion on the same held-out rows (default: "
                    "the corpus test split), log the comparison to the MLflow experiment spamdetect-promotion, "
                    "and move the alias only when the candidate's roc_auc is not below the champion's by more "
                    "than --auc-tolerance and its fpr_real_legit is not above the champion's by more than "
                    "--fpr-tolerance. Exit status: 0 promoted, 1 refused (reasons printed), 2 error.")
    promote.add_argument("candidate", help="a run id (registered first if needed), a version number of "
                                           "'spamdetect', or models:/spamdetect/<n> | models:/spamdetect@<alias>")
    promote.add_argument("--auc-tolerance", type=float, default=0.002,
                         help="how far the candidate's ROC-AUC may fall below the champion's (default 0.002)")
    promote.add_argument("--fpr-tolerance", type=float, default=0.002,
                         help="how far its FPR on real legit pages may rise above the champion's (default 0.002)")
    promote.add_argument("--heldout", default=None,
                         help="labeled file (.jsonl/.parquet/.csv: label 1/0, html or text, url?, variant?) "
                              "instead of the corpus test split")
    promote.add_argument("--corpus", default=None, help="shared corpus folder (default: as for train)")
    promote.add_argument("--seed", type=int, default=0, help="corpus split seed (must match the candidate's training)")
    promote.add_argument("--limit", type=_at_least(1), default=None, help="corpus built from the first N real pages (quick)")
    promote.add_argument("--workers", type=_at_least(1), default=os.cpu_count() or 1)
    promote.add_argument("--dry-run", action="store_true", help="compare and log, but do not register or move the alias")
    promote.set_defaults(func=_cmd_promote)
    return parser


EXIT_SIGPIPE = 128 + 13  # what a shell reports for a producer killed by SIGPIPE


def quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush of what could not be written
    (the reader went away, the disk is full) cannot fail loudly (the recipe of Python's signal docs)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    from spamdetect.corpus.legit import NoCorpus
    from spamdetect.loading import ModelUnavailable

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ModelUnavailable, NoCorpus) as exc:  # nothing was done: say why in one line, as for bad arguments
        print(f"spamdetect {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of stdout went away (| head): stop quietly, not with a traceback
        quiet_stdout()
        return EXIT_SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
