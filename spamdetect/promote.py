"""`spamdetect promote`: move ``spamdetect@champion`` to a candidate only when it is not worse.

    spamdetect promote 1b38c4f8d00643f88fad56854dc674ba     # a training run id (registered first if needed)
    spamdetect promote 7                                    # version 7 of the registered model
    spamdetect promote models:/spamdetect/7                 # or a models:/ URI (a version or an alias)

Both models score exactly the same held-out rows: by default the test split of the training
corpus (split by source story, seed 0, the split ``spamdetect train`` never trains or tunes on),
or a labeled file given with ``--heldout``. Each is judged at its own default threshold, as it
would serve. The rule, on the agreed metrics:

- ``roc_auc`` (candidate) >= ``roc_auc`` (champion) - ``--auc-tolerance`` (default 0.002), and
- ``fpr_real_legit`` (candidate) <= ``fpr_real_legit`` (champion) + ``--fpr-tolerance``
  (default 0.002, about one real page of the corpus test split).

Every comparison is logged as a run of the MLflow experiment ``spamdetect-promotion`` (run name
``promote-v<N>``): both models' metrics, the deltas, the decision and its reasons, plus
``comparison.json``; the candidate version gets tags ``promotion`` (promoted/refused) and
``promotion_run_id``. The alias moves only when the rule passes (not with ``--dry-run``); with
no champion yet, the candidate becomes champion. Exit status: 0 promoted (or already champion,
or a passing dry run), 1 refused (the reasons are printed), 2 bad candidate or store.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spamdetect import config

EXPERIMENT = "spamdetect-promotion"
GATE_METRICS = ("roc_auc", "fpr_real_legit")
REPORTED = ("roc_auc", "fpr_real_legit", "pr_auc", "precision", "recall", "f1", "fpr", "brier",
            "roc_auc_html", "roc_auc_text", "threshold")


class PromotionError(Exception):
    """The candidate or the store cannot be used (exit status 2)."""


# ----- held-out data -------------------------------------------------------------------------

@dataclass
class HeldOut:
    """Labeled rows both models are scored on, with the per-row groups ``compute_metrics`` uses.

    ``featurize(families, domain_lists)`` returns the signal matrix of the rows (all signal
    columns, ``signals.feature_names()`` order) for one featurizer configuration; matrices are
    cached so two models with the same configuration share one. ``count_texts()`` returns the
    rows' n-gram counts (``text_model.counts``) for models with a text channel.
    """

    name: str
    y: np.ndarray
    variant: np.ndarray
    family: np.ndarray
    mode: np.ndarray
    featurize: Callable[[list[str] | None, bool], np.ndarray]
    count_texts: Callable[[], object] | None = None
    seed: int | None = None
    fingerprint: str | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def matrix_for(self, model) -> np.ndarray:
        """The feature matrix in the column order of ``model``'s featurizer."""
        from spamdetect import signals

        fz = model.featurizer
        key = (tuple(fz.families or ()), bool(fz.domain_lists))
        if key not in self._cache:
            self._cache[key] = self.featurize(fz.families, fz.domain_lists)
        F = self._cache[key]
        if F.shape[1] != len(signals.feature_names(fz.families)):
            index = {n: i for i, n in enumerate(signals.feature_names())}
            F = F[:, [index[n] for n in signals.feature_names(fz.families)]]
        if model.text is None:
            return F
        if "counts" not in self._cache:
            self._cache["counts"] = self.count_texts()
        return model.with_text(F, self._cache["counts"])


def corpus_heldout(corpus: str | None = None, seed: int = 0, limit: int | None = None, workers: int = 2) -> HeldOut:
    """The test split of the training corpus (built or read from the build/ cache).

    Features come from the training job's cached full matrix when it matches the current signal
    code; otherwise only the test rows are computed, and cached under build/ for the next time.
    """
    from spamdetect.corpus.build import build_corpus
    from spamdetect.corpus.build import fingerprint as corpus_fingerprint
    from spamdetect.features import featurize_frame
    from spamdetect.train import signals_version, text_version

    df = build_corpus(root=corpus, seed=seed, limit=limit, workers=workers)
    fp = corpus_fingerprint(df)
    test = (df["split"] == "test").to_numpy()
    rows = df[test].reset_index(drop=True)
    n_all = len(df)
    del df  # the page bodies of the other splits are not needed any more

    def featurize(families, domain_lists) -> np.ndarray:
        from spamdetect import signals

        tag = f"{fp[:16]}-{signals_version()}-{'dl' if domain_lists else 'nodl'}"
        width = len(signals.feature_names())
        full = config.build_dir() / f"features-{tag}.npy"  # written by spamdetect.train.corpus_features
        if full.exists():
            F = np.load(full, mmap_mode="r")
            if F.shape == (n_all, width):
                return np.asarray(F[test])
        part = config.build_dir() / f"heldout-{tag}.npy"
        if part.exists():
            F = np.load(part)
            if F.shape == (len(rows), width):
                return F
        F = featurize_frame(rows, domain_lists=domain_lists, workers=workers, desc="held-out signals")
        part.parent.mkdir(parents=True, exist_ok=True)
        np.save(part, F)
        return F

    def count_texts():
        from scipy import sparse

        from spamdetect import text_model
        from spamdetect.features import featurize_words

        full = config.build_dir() / f"text-counts-{fp[:16]}-{text_version()}.npz"  # spamdetect.train's cache
        if full.exists():
            T = sparse.load_npz(full).tocsr()
            if T.shape[0] == n_all:
                return T[np.flatnonzero(test)]
        return text_model.counts(featurize_words(rows, workers=workers))

    return HeldOut(name=f"corpus test split (seed {seed}{f', limit {limit}' if limit else ''})",
                   y=rows["label"].to_numpy(int), variant=rows["variant"].to_numpy(object),
                   family=rows["family"].to_numpy(object), mode=rows["mode"].to_numpy(object),
                   featurize=featurize, count_texts=count_texts, seed=seed, fingerprint=fp)


def file_heldout(path: str, workers: int = 1) -> HeldOut:
    """A labeled file (``.jsonl``, ``.parquet`` or ``.csv``): ``label`` (1/"farm" or 0/"legit"), ``html`` or
    ``text``, optional ``url``, ``crawl_date``, ``family``, ``variant``. Legit rows without a variant count
    as real unmodified pages (``variant = "legit"``), i.e. they enter ``fpr_real_legit``."""
    from spamdetect import text_model
    from spamdetect.evaluate import REAL_LEGIT_VARIANT
    from spamdetect.features import featurize_frame, featurize_words

    low = path.lower()
    kind = "Parquet" if low.endswith(".parquet") else "CSV" if low.endswith(".csv") else "JSONL"
    read = {"Parquet": pd.read_parquet, "CSV": pd.read_csv,
            "JSONL": lambda p: pd.read_json(p, lines=True, dtype=False)}[kind]
    try:
        df = read(path)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 -- pandas and pyarrow raise many kinds for a file they cannot read
        raise PromotionError(f"{path}: cannot read it as {kind}: {type(exc).__name__}: {exc}") from None
    if "label" not in df.columns:
        raise PromotionError(f"{path}: held-out data needs a 'label' column (1/farm, 0/legit)")
    labels = df["label"].map(lambda v: {"farm": 1, "legit": 0, "trustworthy": 0}.get(v, v) if isinstance(v, str) else v)
    bad = ~labels.isin([0, 1])
    if bad.any():
        first = int(np.argmax(bad.to_numpy()))
        raise PromotionError(f"{path}: 'label' must be 1/farm or 0/legit; {bad.sum()} row(s) are not, the first "
                             f"is row {first + 1}: {df['label'].iloc[first]!r}")
    for col in ("html", "text"):
        if col not in df.columns:
            df[col] = None
    has_html = df["html"].map(lambda v: isinstance(v, str) and bool(v))
    has_text = df["text"].map(lambda v: isinstance(v, str) and bool(v))
    if not (has_html | has_text).all():
        raise PromotionError(f"{path}: {(~(has_html | has_text)).sum()} row(s) have neither html nor text")
    y = labels.to_numpy(int)
    variant = (df["variant"] if "variant" in df.columns else pd.Series([None] * len(df))).to_numpy(object)
    variant = np.where(pd.isna(variant) & (y == 0), REAL_LEGIT_VARIANT, variant)
    family = (df["family"] if "family" in df.columns else pd.Series([None] * len(df))).to_numpy(object)
    frame = df.drop(columns=[c for c in ("label",) if c in df.columns]).astype(object)
    frame = frame.where(frame.notna(), None)

    def featurize(families, domain_lists) -> np.ndarray:
        return featurize_frame(frame, domain_lists=domain_lists, workers=workers, progress=False)

    def count_texts():
        return text_model.counts(featurize_words(frame, workers=workers))

    return HeldOut(name=path, y=y, variant=variant, family=family,
                   mode=np.where(has_html, "html", "text").astype(object), featurize=featurize,
                   count_texts=count_texts)


# ----- the registry side ---------------------------------------------------------------------

@dataclass
class Candidate:
    version: str
    run_id: str | None
    registered_now: bool = False


def resolve_candidate(client, spec: str, *, register: bool = True) -> Candidate:
    """A run id, a version number or a ``models:/spamdetect/<v>`` / ``models:/spamdetect@<alias>`` URI
    -> a registered version of ``spamdetect``; a run whose model is not registered yet is registered."""
    from mlflow.exceptions import MlflowException

    name = config.REGISTERED_MODEL_NAME
    try:
        if spec.startswith("models:/"):
            ref = spec[len("models:/"):]
            if "@" in ref:
                model_name, alias = ref.split("@", 1)
                mv = client.get_model_version_by_alias(model_name, alias)
            elif "/" in ref:
                model_name, version = ref.split("/", 1)
                mv = client.get_model_version(model_name, version)
            else:
                raise PromotionError(f"{spec}: give a registered version (models:/{name}/<n>) or the run id")
            if model_name != name:
                raise PromotionError(f"{spec}: only versions of the registered model '{name}' can be champion")
            return Candidate(str(mv.version), mv.run_id)
        if spec.isdigit():
            mv = client.get_model_version(name, spec)
            return Candidate(str(mv.version), mv.run_id)
        run = client.get_run(spec)
    except MlflowException as exc:
        raise PromotionError(f"{spec}: not found in {config.tracking_uri()}: {exc.message}") from exc
    found = client.search_model_versions(f"name='{name}' and run_id='{spec}'")
    if found:
        mv = max(found, key=lambda v: int(v.version))
        return Candidate(str(mv.version), spec)
    models = client.search_logged_models([run.info.experiment_id], filter_string=f"source_run_id = '{spec}'")
    if not models:
        raise PromotionError(f"run {spec} logged no model")
    if not register:
        raise PromotionError(f"run {spec} is not registered (a dry run does not register it)")
    import mlflow

    mv = mlflow.register_model(f"models:/{models[0].model_id}", name)
    return Candidate(str(mv.version), spec, registered_now=True)


def current_champion(client) -> str | None:
    """The champion's version, or None when there is none yet."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS).version)
    except MlflowException:
        return None


# ----- the decision --------------------------------------------------------------------------

def evaluate(model, heldout: HeldOut) -> dict[str, float]:
    """``evaluate.compute_metrics`` of ``model`` on the held-out rows at the model's own threshold."""
    from spamdetect.evaluate import compute_metrics

    p = model.farm_proba_features(heldout.matrix_for(model))
    return compute_metrics(heldout.y, p, model.threshold, family=heldout.family, variant=heldout.variant,
                           mode=heldout.mode)


def judge(candidate: dict[str, float], champion: dict[str, float] | None, *, auc_tolerance: float,
          fpr_tolerance: float) -> tuple[bool, list[str]]:
    """(passes?, reasons): the promotion rule on ``roc_auc`` and ``fpr_real_legit``."""
    reasons = []
    for m in GATE_METRICS:
        if not math.isfinite(candidate.get(m, math.nan)):
            reasons.append(f"candidate {m} cannot be measured on this held-out data")
    if champion is None or reasons:
        return not reasons, reasons or ["no champion yet"]
    ok = True
    auc_c, auc_h = candidate["roc_auc"], champion["roc_auc"]
    if auc_c < auc_h - auc_tolerance:
        ok = False
        reasons.append(f"roc_auc {auc_c:.4f} is below the champion's {auc_h:.4f} by {auc_h - auc_c:.4f} "
                       f"(tolerance {auc_tolerance})")
    else:
        reasons.append(f"roc_auc {auc_c:.4f} vs champion {auc_h:.4f}: ok")
    fpr_c, fpr_h = candidate["fpr_real_legit"], champion["fpr_real_legit"]
    if math.isfinite(fpr_h) and fpr_c > fpr_h + fpr_tolerance:
        ok = False
        reasons.append(f"fpr_real_legit {fpr_c:.4f} is above the champion's {fpr_h:.4f} by {fpr_c - fpr_h:.4f} "
                       f"(tolerance {fpr_tolerance})")
    else:
        reasons.append(f"fpr_real_legit {fpr_c:.4f} vs champion {fpr_h:.4f}: ok")
    return ok, reasons


def _seed_leak(model, heldout: HeldOut) -> str | None:
    """A model trained on a corpus split with another seed has seen some of these test stories."""
    trained = (getattr(model, "meta", None) or {}).get("seed")
    if heldout.seed is None or trained is None or int(trained) == heldout.seed:
        return None
    return (f"the candidate was trained on the seed-{trained} split, so part of the seed-{heldout.seed} test "
            f"split was in its training data; evaluate with --seed {trained} (both models on that split)")


@dataclass
class Outcome:
    decision: str  # "promoted", "refused", "already champion", "passed (dry run)"
    candidate: Candidate
    champion_version: str | None
    candidate_metrics: dict
    champion_metrics: dict | None
    reasons: list[str]
    run_id: str | None = None

    @property
    def exit_status(self) -> int:
        return 1 if self.decision == "refused" else 0


def promote(spec: str, *, heldout: HeldOut | Callable[[], HeldOut], auc_tolerance: float = 0.002,
            fpr_tolerance: float = 0.002, dry_run: bool = False, tracking_uri: str | None = None) -> Outcome:
    """Compare ``spec`` with the champion on ``heldout``, log the comparison, move the alias on pass.

    ``heldout`` may be a callable so the (slow) held-out data is only built once the candidate resolved.
    """
    import mlflow
    from mlflow.tracking import MlflowClient

    from spamdetect import tracking

    uri = tracking_uri or config.tracking_uri()
    tracking.setup(uri, EXPERIMENT)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = config.REGISTERED_MODEL_NAME
    cand = resolve_candidate(client, spec, register=not dry_run)
    champ_version = current_champion(client)
    if champ_version == cand.version:
        return Outcome("already champion", cand, champ_version, {}, None, [f"v{cand.version} is already champion"])

    data = heldout() if callable(heldout) else heldout
    cand_model = tracking.load_trust_model(f"models:/{name}/{cand.version}", tracking_uri=uri)
    cand_metrics = evaluate(cand_model, data)
    champ_metrics = None
    if champ_version is not None:
        champ_model = tracking.load_trust_model(f"models:/{name}/{champ_version}", tracking_uri=uri)
        champ_metrics = evaluate(champ_model, data)
    ok, reasons = judge(cand_metrics, champ_metrics, auc_tolerance=auc_tolerance, fpr_tolerance=fpr_tolerance)
    leak = _seed_leak(cand_model, data)
    if leak:
        ok, reasons = False, [leak, *reasons]
    decision = ("passed (dry run)" if dry_run else "promoted") if ok else "refused"

    comparison = {
        "candidate_version": cand.version, "candidate_run_id": cand.run_id,
        "champion_version": champ_version, "heldout": data.name, "heldout_fingerprint": data.fingerprint,
        "n_rows": int(len(data.y)), "rule": {"auc_tolerance": auc_tolerance, "fpr_tolerance": fpr_tolerance},
        "decision": decision, "reasons": reasons,
        "candidate": _clean(cand_metrics), "champion": _clean(champ_metrics) if champ_metrics else None,
    }
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(run_name=f"promote-v{cand.version}", tags={
            "decision": decision, "candidate_version": cand.version, "champion_version": str(champ_version),
            "candidate_run_id": str(cand.run_id)}) as run:
        mlflow.log_params({"candidate_version": cand.version, "champion_version": str(champ_version),
                           "candidate_run_id": str(cand.run_id), "heldout": data.name[:500],
                           "heldout_fingerprint": str(data.fingerprint), "n_rows": len(data.y),
                           "auc_tolerance": auc_tolerance, "fpr_tolerance": fpr_tolerance, "dry_run": dry_run})
        metrics = {f"candidate_{k}": v for k, v in cand_metrics.items()}
        if champ_metrics:
            metrics.update({f"champion_{k}": v for k, v in champ_metrics.items()})
            metrics.update({f"delta_{k}": cand_metrics[k] - champ_metrics[k] for k in cand_metrics
                            if k in champ_metrics})
        metrics["promoted"] = float(decision == "promoted")
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if math.isfinite(float(v))})
        mlflow.set_tag("reasons", " | ".join(reasons)[:5000])
        mlflow.log_dict(comparison, "comparison.json")
    if not dry_run:
        client.set_model_version_tag(name, cand.version, "promotion", "promoted" if ok else "refused")
        client.set_model_version_tag(name, cand.version, "promotion_run_id", run.info.run_id)
    if ok and not dry_run:
        client.set_registered_model_alias(name, config.CHAMPION_ALIAS, cand.version)
    return Outcome(decision, cand, champ_version, cand_metrics, champ_metrics, reasons, run.info.run_id)


def _clean(metrics: dict) -> dict:
    return {k: (round(float(v), 6) if math.isfinite(float(v)) else None) for k, v in metrics.items()}


def report(out: Outcome) -> str:
    """The comparison as a short table and the decision, for the terminal."""
    c = out.candidate
    lines = [f"candidate: spamdetect v{c.version}" + (f" (run {c.run_id})" if c.run_id else "")
             + (" - registered now" if c.registered_now else ""),
             "champion:  " + (f"spamdetect v{out.champion_version}" if out.champion_version else "none")]
    if out.candidate_metrics:
        lines.append(f"{'metric':<16}{'champion':>10}{'candidate':>11}{'delta':>9}")
        for m in REPORTED:
            if m not in out.candidate_metrics:
                continue
            cv = out.candidate_metrics[m]
            hv = out.champion_metrics.get(m) if out.champion_metrics else None
            delta = f"{cv - hv:+.4f}" if hv is not None else ""
            lines.append(f"{m:<16}{'' if hv is None else f'{hv:.4f}':>10}{cv:>11.4f}{delta:>9}")
    lines += [f"  - {r}" for r in out.reasons]
    verdict = {"promoted": f"PROMOTED: spamdetect@champion -> v{c.version}"
                           + (f" (was v{out.champion_version})" if out.champion_version else ""),
               "refused": f"REFUSED: spamdetect@champion stays at v{out.champion_version}",
               "already champion": f"nothing to do: v{c.version} is already champion",
               "passed (dry run)": f"would promote v{c.version} (dry run: alias not moved)"}[out.decision]
    lines.append(verdict)
    if out.run_id:
        lines.append(f"logged as run {out.run_id} in experiment '{EXPERIMENT}'")
    return "\n".join(lines)


def cli_main(args: argparse.Namespace) -> int:
    """Entry point of ``spamdetect promote`` (arguments from ``spamdetect.cli``)."""
    if args.heldout:
        def data() -> HeldOut:
            return file_heldout(args.heldout, workers=args.workers)
    else:
        def data() -> HeldOut:
            return corpus_heldout(args.corpus, seed=args.seed, limit=args.limit, workers=args.workers)
    try:
        out = promote(args.candidate, heldout=data, auc_tolerance=args.auc_tolerance,
                      fpr_tolerance=args.fpr_tolerance, dry_run=args.dry_run)
    except (PromotionError, FileNotFoundError, ValueError) as exc:
        print(f"spamdetect promote: {exc}", file=sys.stderr)
        return 2
    print(report(out))
    return out.exit_status

