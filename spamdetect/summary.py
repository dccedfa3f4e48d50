"""Summarise score files (JSONL, CSV, Parquet or a Spark output directory): counts, trust distribution,
top reasons, lowest-trust pages. ``python -m spamdetect.summary SCORES...``"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from spamdetect.score_files import check_score_file, iter_score_rows
from spamdetect.writers import COLUMNS


def read_scores(path: str | Path) -> pd.DataFrame:
    """Load an output written by ``spamdetect score`` (unreadable rows become error rows)."""
    df = pd.DataFrame(list(iter_score_rows(str(path))), columns=list(COLUMNS))
    df["trust"] = pd.to_numeric(df["trust"], errors="coerce")  # a row another tool wrote: "high" is no trust
    df["reasons"] = df["reasons"].map(lambda r: r if isinstance(r, list) else [])  # a missing or odd value
    return df


def summarize(df: pd.DataFrame, top: int = 5) -> str:
    """A short human-readable summary of scored pages."""
    scored = df[df["error"].isna() & df["trust"].notna()]
    lines = [f"pages: {len(df)}  scored: {len(scored)}  errors or no trust: {len(df) - len(scored)}  "
             f"farms: {(scored['label'] == 'farm').sum()}  trustworthy: {(scored['label'] == 'trustworthy').sum()}"]
    if len(scored):
        q = scored["trust"].quantile([0.1, 0.5, 0.9])
        lines.append(f"trust p10/p50/p90: {q.iloc[0]:.2f} / {q.iloc[1]:.2f} / {q.iloc[2]:.2f}")
        reasons = Counter(r.split(":")[0] for rs in scored.loc[scored["label"] == "farm", "reasons"] for r in rs)
        if reasons:
            lines.append("most common farm reasons: " + ", ".join(f"{r} ({n})" for r, n in reasons.most_common(top)))
        lines.append("lowest trust:")
        for _, row in scored.nsmallest(top, "trust").iterrows():
            where = row["url"] if isinstance(row["url"], str) else row["id"]
            lines.append(f"  {row['trust']:.3f} {row['label']:<11} {where}")
            for reason in list(row["reasons"])[:3]:
                lines.append(f"        - {reason}")
    errors = df[df["error"].notna()]
    for _, row in errors.head(top).iterrows():
        lines.append(f"  error {row['id']}: {row['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        for path in argv:
            check_score_file(path, "spamdetect.summary")
        for path in argv:
            print(f"== {path}")
            print(summarize(read_scores(path)))
    except (OSError, ValueError) as exc:
        print(f"spamdetect.summary: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
