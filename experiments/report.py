"""Write experiments/REPORT.md and experiments/figures/*.png from the runs in the MLflow experiment
``spamdetect-experiments``: the newest run of each run name (of one scope: full corpus by default).
Nothing in the report is typed by hand; every number comes from a logged metric or artifact.

    python -m experiments.report                 # full-corpus runs
    python -m experiments.report --scope quick   # the smoke runs
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.common import EXPERIMENTS_DIR, EXPERIMENT

HEADLINE = ("roc_auc", "pr_auc", "f1", "precision", "recall", "fpr_real_legit")
FULL = "model-full"


# ----- reading runs ------------------------------------------------------------------------------

def load_runs(scope: str = "full", tracking_uri: str | None = None) -> pd.DataFrame:
    """One row per run name (the newest), indexed by run name: ``metrics.*``, ``params.*``, ``tags.*``."""
    import mlflow

    from spamdetect import tracking

    exp_id = tracking.setup(tracking_uri, experiment=EXPERIMENT)
    runs = mlflow.search_runs(experiment_ids=[exp_id], filter_string=f"tags.scope = '{scope}'",
                              order_by=["attributes.start_time DESC"], output_format="pandas")
    if runs.empty:
        return runs
    runs = runs[runs["status"] == "FINISHED"]
    runs = runs.drop_duplicates("tags.mlflow.runName", keep="first")
    return runs.set_index("tags.mlflow.runName", drop=False)


def metric(runs: pd.DataFrame, name: str, key: str) -> float:
    col = f"metrics.{key}"
    if name not in runs.index or col not in runs.columns:
        return float("nan")
    v = runs.at[name, col]
    return float(v) if v is not None and not pd.isna(v) else float("nan")


def artifact_table(runs: pd.DataFrame, name: str, file: str) -> pd.DataFrame | None:
    """A CSV artifact of a run, or None when the run or the file is missing."""
    import mlflow

    if name not in runs.index:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(run_id=runs.at[name, "run_id"], artifact_path=file, dst_path=tmp)
        except Exception:  # noqa: BLE001 - a missing artifact leaves its section out, not the report
            return None
        return pd.read_csv(path)


# ----- formatting -------------------------------------------------------------------------------------

def count(v) -> str:
    return "–" if v is None or pd.isna(v) else f"{int(v):,}"


def fmt(v, digits: int = 3, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)) or (isinstance(v, float) and v.is_integer() and abs(v) >= 10):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"
    return str(v).replace("|", "\\|").replace("\n", " ")


TEXT_COLUMNS = {"false_positive", "source", "mode", "lang", "url", "reasons", "op", "feature"}


def md_table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table: the first column and text columns left-aligned, numbers right-aligned."""
    head = "| " + " | ".join(columns) + " |"
    sep = "|" + "|".join(["---"] + ["---" if c in TEXT_COLUMNS else "---:" for c in columns[1:]]) + "|"
    body = ["| " + " | ".join(r.get(c, "") for c in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def metric_rows(runs: pd.DataFrame, names: list[str], keys=HEADLINE, ref: str | None = FULL,
                delta_keys=("roc_auc", "pr_auc", "f1", "recall", "fpr_real_legit"), label=None) -> list[dict]:
    rows = []
    for name in names:
        row = {"run": label(name) if label else name}
        for k in keys:
            row[k] = fmt(metric(runs, name, k))
        if ref:
            for k in delta_keys:
                row[f"Δ {k}"] = fmt(metric(runs, name, k) - metric(runs, ref, k), signed=True)
        rows.append(row)
    return rows


def _columns(keys=HEADLINE, ref: str | None = FULL, delta_keys=("roc_auc", "pr_auc", "f1", "recall", "fpr_real_legit")):
    return ["run", *keys, *([f"Δ {k}" for k in delta_keys] if ref else [])]


def names_with(runs: pd.DataFrame, prefix: str) -> list[str]:
    return sorted(n for n in runs.index if n.startswith(prefix))


def families_of(runs: pd.DataFrame, name: str = FULL) -> list[str]:
    pre = "metrics.recall_family_"
    return sorted(c[len(pre):] for c in runs.columns if c.startswith(pre) and not pd.isna(runs.at[name, c])) \
        if name in runs.index else []


# ----- figures ----------------------------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bar_figure(labels: list[str], series: dict[str, list[float]], title: str, path: Path, ylabel: str = "") -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(labels) * max(1, len(series)) ** 0.5 + 2), 4.2))
    width = 0.8 / max(1, len(series))
    x = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + i * width - 0.4 + width / 2, values, width, label=name)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def curve_figure(runs: pd.DataFrame, names: list[str], path: Path) -> Path:
    plt = _plt()
    n = [metric(runs, r, "n_train") for r in names]
    order = np.argsort(n)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for key in ("roc_auc", "pr_auc", "f1", "recall"):
        ax.plot(np.array(n)[order], np.array([metric(runs, r, key) for r in names])[order], marker="o", label=key)
    ax2 = ax.twinx()
    ax2.plot(np.array(n)[order], np.array([metric(runs, r, "fpr_real_legit") for r in names])[order], "k--",
             marker="x", label="fpr_real_legit (right)")
    ax2.set_ylabel("fpr_real_legit")
    ax.set_xscale("log")
    ax.set_xlabel("training rows (documents x modes)")
    ax.set_title("Learning curve: test metrics vs training-set size")
    ax.grid(alpha=0.3)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----- sections ---------------------------------------------------------------------------------------

def section_baselines(runs: pd.DataFrame, figs: Path) -> list[str]:
    # the leave-one-family-out baselines are tested on other rows: section 3 sets them against the
    # model under the same protocol
    names = [n for n in [FULL, *names_with(runs, "baseline-")] if n in runs.index
             and not n.startswith("baseline-tfidf-lofo-")]
    if not names:
        return []
    out = ["## 1. Baselines (same split: standard test split)", "",
           "Δ = run minus `model-full`. Score baselines get a threshold chosen like the model's "
           "(FPR <= 0.5% on the validation legit pages); hard filters (marked †) have no threshold: their "
           "precision, recall, FPR and AUC are those of their binary verdict (drop = farm).", ""]
    hard = {n for n in names if runs.at[n, "params.baseline_type"] == "hard filter"} \
        if "params.baseline_type" in runs.columns else set()
    out.append(md_table(metric_rows(runs, names, label=lambda n: n + (" †" if n in hard else "")), _columns()))
    keys = ("roc_auc", "pr_auc", "recall_at_real_fpr_1pct", "fpr_real_legit")
    rows = [{"run": n, **{k: fmt(metric(runs, n, k)) for k in keys},
             "Δ recall_at_real_fpr_1pct": fmt(metric(runs, n, keys[2]) - metric(runs, FULL, keys[2]), signed=True)}
            for n in names]
    out += ["", "On equal terms: farm recall at the cut that calls 1% of the real legitimate test pages farm "
            "(`recall_at_real_fpr_1pct`, one point of each scorer's ROC curve), next to the real-page FPR each "
            "scorer's own threshold gives:", "", md_table(rows, ["run", *keys, "Δ recall_at_real_fpr_1pct"])]
    beats, f1_only = [], []
    for n in names[1:]:
        worse = [k for k in ("roc_auc", "pr_auc", "recall_at_real_fpr_1pct") if metric(runs, FULL, k) <= metric(runs, n, k)]
        if worse:
            beats.append(f"`{n}` (on {', '.join(worse)})")
        elif metric(runs, FULL, "f1") <= metric(runs, n, "f1"):
            f1_only.append(f"`{n}` (F1 {fmt(metric(runs, n, 'f1'))} at a real-page FPR of "
                           f"{fmt(metric(runs, n, 'fpr_real_legit'))}, against the model's {fmt(metric(runs, FULL, 'fpr_real_legit'))})")
    if len(names) > 1:
        out += ["", ("The model beats every baseline on ROC-AUC, PR-AUC and recall at 1% real-page FPR." if not beats else
                     "The model does NOT beat: " + "; ".join(beats) + ".")]
        if f1_only:
            out += ["Higher F1 at their own thresholds, bought with more false positives on real pages: "
                    + "; ".join(f1_only) + "."]
        out += [""]
    fams = families_of(runs)
    if fams:
        out += ["Recall per farm family (at each run's threshold / verdict):", ""]
        rows = [{"family": f, **{n.removeprefix("baseline-"): fmt(metric(runs, n, f"recall_family_{f}")) for n in names}}
                for f in fams]
        out += [md_table(rows, ["family", *[n.removeprefix("baseline-") for n in names]]), ""]
    share = metric(runs, "baseline-domain-lists", "farm_domains_from_lists_share")
    if not math.isnan(share):
        out += [f"Domain lists: the farm simulator draws {share:.1%} of farm domains from the content-farm-terminator "
                "lists, so this baseline's recall is bounded by (and circular with) that share; real legit pages "
                "are rarely listed. Treat it as a sanity check, not a competitor.", ""]
    path = bar_figure([n.removeprefix("baseline-") for n in names],
                      {k: [metric(runs, n, k) for n in names] for k in ("roc_auc", "pr_auc", "recall", "fpr_real_legit")},
                      "Model vs baselines (test split)", figs / "baselines.png")
    out += [f"![baselines](figures/{path.name})", ""]
    return out


def section_ablations(runs: pd.DataFrame, figs: Path) -> list[str]:
    without, only = names_with(runs, "ablation-without-"), names_with(runs, "ablation-only-")
    if not without and not only:
        return []
    out = ["## 2. Ablations (standard split)", "", "Δ = run minus `model-full`.", ""]
    names = [FULL, *without, *only] if FULL in runs.index else [*without, *only]
    out += [md_table(metric_rows(runs, names), _columns()), ""]
    fams = [n.removeprefix("ablation-without-") for n in without]
    if fams:
        path = bar_figure(fams, {
            "Δ roc_auc without family": [metric(runs, f"ablation-without-{f}", "roc_auc") - metric(runs, FULL, "roc_auc") for f in fams],
            "Δ recall without family": [metric(runs, f"ablation-without-{f}", "recall") - metric(runs, FULL, "recall") for f in fams],
        }, "What the model loses without each signal family", figs / "ablations.png", "change vs model-full")
        out += [f"![ablations](figures/{path.name})", ""]
    return out


def section_generalisation(runs: pd.DataFrame, figs: Path) -> list[str]:
    lofo, modes = names_with(runs, "generalisation-lofo-"), names_with(runs, "generalisation-")
    modes = [n for n in modes if n.endswith(("-to-text", "-to-html"))]
    sources = names_with(runs, "generalisation-source-")
    if not (lofo or modes or sources):
        return []
    out = ["## 3. Generalisation", ""]
    if lofo:
        out += ["Leave one farm family out: trained without the family, tested on its farms plus all legit test pages. "
                "`seen recall` is that family's recall when it is in training (`model-full`).", ""]
        rows = []
        for n in lofo:
            fam = n.removeprefix("generalisation-lofo-")
            seen = metric(runs, FULL, f"recall_family_{fam}")
            rows.append({"held-out family": fam, "roc_auc": fmt(metric(runs, n, "roc_auc")),
                         "pr_auc": fmt(metric(runs, n, "pr_auc")), "recall": fmt(metric(runs, n, "recall")),
                         "seen recall": fmt(seen), "Δ recall": fmt(metric(runs, n, "recall") - seen, signed=True),
                         "fpr_real_legit": fmt(metric(runs, n, "fpr_real_legit"))})
        out += [md_table(rows, ["held-out family", "roc_auc", "pr_auc", "recall", "seen recall", "Δ recall",
                                "fpr_real_legit"]), ""]
        path = bar_figure([n.removeprefix("generalisation-lofo-") for n in lofo], {
            "recall unseen": [metric(runs, n, "recall") for n in lofo],
            "recall seen": [metric(runs, FULL, "recall_family_" + n.removeprefix("generalisation-lofo-")) for n in lofo],
        }, "Recall on a farm family never seen in training", figs / "lofo.png")
        out += [f"![lofo](figures/{path.name})", ""]
        tfidf = [n for n in lofo if f"baseline-tfidf-lofo-{n.removeprefix('generalisation-lofo-')}" in runs.index]
        if tfidf:
            out += ["The strongest baseline under the same protocol (`baseline-tfidf-lofo-<family>`: TF-IDF + logistic "
                    "regression on the page text), against the model:", ""]
            rows = []
            for n in tfidf:
                fam = n.removeprefix("generalisation-lofo-")
                b = f"baseline-tfidf-lofo-{fam}"
                rows.append({"held-out family": fam, "model roc_auc": fmt(metric(runs, n, "roc_auc")),
                             "tfidf roc_auc": fmt(metric(runs, b, "roc_auc")),
                             "model recall@1%": fmt(metric(runs, n, "recall_at_real_fpr_1pct")),
                             "tfidf recall@1%": fmt(metric(runs, b, "recall_at_real_fpr_1pct")),
                             "model fpr_real_legit": fmt(metric(runs, n, "fpr_real_legit")),
                             "tfidf fpr_real_legit": fmt(metric(runs, b, "fpr_real_legit"))})
            cols = list(rows[0])
            mean = {c: fmt(np.nanmean([float(r[c]) for r in rows])) for c in cols[1:]}
            rows.append({"held-out family": "**mean**", **mean})
            out += [md_table(rows, cols), ""]
            lost = [f"`{r['held-out family']}` (on {', '.join(k for k in ('roc_auc', 'recall@1%') if float(r['model ' + k]) <= float(r['tfidf ' + k]))})"
                    for r in rows[:-1] if any(float(r["model " + k]) <= float(r["tfidf " + k]) for k in ("roc_auc", "recall@1%"))]
            out += [("The model beats TF-IDF on every held-out family on ROC-AUC and recall at 1% real-page FPR."
                     if not lost else "TF-IDF matches or beats the model on held-out " + "; ".join(lost) + "."), ""]
    if modes:
        out += ["Train on one rendering, test on the other (`model-full` trains on both):", "",
                md_table(metric_rows(runs, modes), _columns()), ""]
    if sources:
        out += ["Leave one corpus folder out: trained without the folder (and any story of it), tested on all its "
                "pages. `fpr_real_legit` is the false-positive rate on publishers never seen in training.", ""]
        rows = []
        for n in sources:
            rows.append({"held-out source": n.removeprefix("generalisation-source-"),
                         "test rows": fmt(metric(runs, n, "n_test")),
                         **{k: fmt(metric(runs, n, k)) for k in HEADLINE},
                         "Δ fpr_real_legit": fmt(metric(runs, n, "fpr_real_legit") - metric(runs, FULL, "fpr_real_legit"),
                                                 signed=True)})
        out += [md_table(rows, ["held-out source", "test rows", *HEADLINE, "Δ fpr_real_legit"]), ""]
    return out


def section_learning_curve(runs: pd.DataFrame, figs: Path) -> list[str]:
    names = names_with(runs, "learning-curve-")
    if not names:
        return []
    names = sorted(names, key=lambda n: metric(runs, n, "n_train"))
    rows = [{"training share": fmt(metric(runs, n, "train_fraction"), 2), "training rows": fmt(metric(runs, n, "n_train")),
             **{k: fmt(metric(runs, n, k)) for k in HEADLINE}} for n in names]
    path = curve_figure(runs, names, figs / "learning_curve.png")
    return ["## 4. Learning curve", "", "Share of the training stories (all their variants and both modes); same "
            "validation and test split.", "", md_table(rows, ["training share", "training rows", *HEADLINE]), "",
            f"![learning curve](figures/{path.name})", ""]


def section_robustness(runs: pd.DataFrame) -> list[str]:
    name = "robustness-crossfit"
    if name not in runs.index:
        return []
    out = ["## 5. Robustness (every page scored out of fold, 5 story folds)", "",
           md_table([{"case": k, "value": fmt(metric(runs, name, k))} for k in (
               "recall_one_sign", "recall_in_place_two_signs", "recall", "fpr_hard_negative", "fpr_real_legit",
               "roc_auc")], ["case", "value"]), ""]
    one = artifact_table(runs, name, "one_sign_farms.csv")
    if one is not None and len(one):
        cols = [c for c in ("op", "n", "recall", "recall_html", "recall_text") if c in one.columns]
        out += ["Farms with a single sign (`in_place`, one operation), recall per operation:", "",
                md_table([{c: count(r[c]) if c == "n" else fmt(r[c]) for c in cols} for _, r in one.iterrows()], cols), ""]
    hard = artifact_table(runs, name, "hard_negatives.csv")
    if hard is not None and len(hard):
        cols = [c for c in ("feature", "n", "fpr", "n_alone", "fpr_alone") if c in hard.columns]
        out += ["Legitimate pages with farm-like surface features (hard negatives), false-positive rate per feature "
                "(`n`: pages carrying it; `alone`: pages with only that feature):", "",
                md_table([{c: count(r[c]) if c.startswith("n") else fmt(r[c]) for c in cols} for _, r in hard.iterrows()],
                         cols), ""]
    return out


def section_false_positives(runs: pd.DataFrame) -> list[str]:
    out = []
    for name, file, what in ((FULL, "worst_false_positives.csv", "the full model on the real legit test pages"),
                             ("robustness-crossfit", "worst_false_positives_oof.csv",
                              "out-of-fold models on every real legit page")):
        t = artifact_table(runs, name, file)
        if t is None or not len(t):
            continue
        n_fp = int(t["false_positive"].astype(bool).sum())
        cols = ["p_farm", "false_positive", "source", "mode", "lang", "url", "reasons"]
        rows = [{c: fmt(r[c], 4) if c == "p_farm" else fmt(bool(r[c]) if c == "false_positive" else r[c]) for c in cols}
                for _, r in t.head(15).iterrows()]
        out += [f"Scored by {what} (`{name}`, artifact `{file}`): the {len(rows)} most farm-like of the {len(t)} "
                f"logged; {n_fp} of those {len(t)} cross the threshold.", "", md_table(rows, cols), ""]
    return (["## 6. Worst false positives on real legitimate pages, with their reasons", "", *out]) if out else []


def section_operating_points(runs: pd.DataFrame) -> list[str]:
    t = artifact_table(runs, "model-operating-points", "operating_points.csv")
    if t is None or not len(t):
        return []
    cols = ["target", "threshold", "test_precision", "test_recall", "test_fpr_real_legit"]
    rows = [{c: fmt(r[c], 4) if c != "target" else r[c] for c in cols} for _, r in t.iterrows()]
    return ["## 7. Operating points", "",
            "Thresholds on P(farm) read off the validation rows for each target, and what they give on the test "
            "rows (`model-operating-points`).", "", md_table(rows, cols), ""]


def section_summary(runs: pd.DataFrame) -> list[str]:
    if FULL not in runs.index:
        return []
    fams = families_of(runs)
    out = ["## Summary", ""]
    m = {k: metric(runs, FULL, k) for k in HEADLINE}
    out.append("`model-full` on the test split: " + ", ".join(f"{k} {fmt(v)}" for k, v in m.items()) + ".")
    if fams:
        rec = {f: metric(runs, FULL, f"recall_family_{f}") for f in fams}
        weakest = min(rec, key=rec.get)
        out.append(f"Weakest family at the threshold: `{weakest}` (recall {fmt(rec[weakest])}).")
        lofo = {f: metric(runs, f"generalisation-lofo-{f}", "roc_auc") for f in fams
                if f"generalisation-lofo-{f}" in runs.index}
        if lofo:
            w = min(lofo, key=lofo.get)
            out.append(f"Hardest family to catch unseen: `{w}` (ROC-AUC {fmt(lofo[w])} when left out of training).")
    return out + [""]


EXPECTED = ["model-full", "baseline-tfidf-logreg", "baseline-gopher-quality", "baseline-gopher-repetition",
            "baseline-c4-lines", "baseline-fineweb-lines", "baseline-fineweb-pipeline", "baseline-domain-lists",
            "baseline-trafilatura-rules", "generalisation-html-to-text", "generalisation-text-to-html",
            "robustness-crossfit", "model-operating-points"]


def missing_runs(runs: pd.DataFrame) -> list[str]:
    """Expected run names with no finished run of this scope (a partial report says so)."""
    from spamdetect import signals

    expected = list(EXPECTED)
    expected += [f"ablation-{how}-{f}" for f in [*signals.FAMILIES, "text_model"] for how in ("without", "only")]
    expected += [f"generalisation-lofo-{f}" for f in families_of(runs)]
    return [n for n in expected if n not in runs.index]


def build_report(out_dir: Path = EXPERIMENTS_DIR, scope: str = "full", tracking_uri: str | None = None) -> Path:
    """Write ``REPORT.md`` and ``figures/*.png`` under ``out_dir`` from the newest run of each name."""
    runs = load_runs(scope, tracking_uri)
    if runs.empty:
        raise SystemExit(f"no finished runs of scope {scope!r} in experiment {EXPERIMENT!r}: run `make experiments` first")
    out_dir = Path(out_dir)
    figs = out_dir / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    fp = runs["params.corpus_fingerprint"].dropna().unique() if "params.corpus_fingerprint" in runs else []
    started = pd.to_datetime(runs["start_time"])
    lines = ["# spamdetect experiments", "",
             f"Generated by `experiments/report.py` from {len(runs)} MLflow runs (experiment `{EXPERIMENT}`, scope "
             f"`{scope}`, newest run per name, {started.min():%Y-%m-%d %H:%M} to {started.max():%Y-%m-%d %H:%M} UTC; "
             f"corpus fingerprint {', '.join(map(str, fp)) or 'unknown'}). Do not edit by hand: `make report`.", "",
             "Metrics: `roc_auc`, `pr_auc` (farm = positive), `f1`, `precision`, `recall` at the run's threshold; "
             "`fpr_real_legit` = share of real, unmodified publisher pages called farm.", ""]
    missing = missing_runs(runs)
    if missing:
        lines += [f"**Partial report**: {len(missing)} expected run(s) not found: "
                  + ", ".join(f"`{n}`" for n in missing) + ".", ""]
    lines += section_summary(runs)
    lines += section_baselines(runs, figs)
    lines += section_ablations(runs, figs)
    lines += section_generalisation(runs, figs)
    lines += section_learning_curve(runs, figs)
    lines += section_robustness(runs)
    lines += section_false_positives(runs)
    lines += section_operating_points(runs)
    path = out_dir / "REPORT.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scope", default="full", help="full (default), quick or limit<N>")
    ap.add_argument("--out", type=Path, default=EXPERIMENTS_DIR)
    a = ap.parse_args(argv)
    print(build_report(a.out, a.scope))


if __name__ == "__main__":
    main()
