"""Evaluation splits over the corpus frame, always by ``group`` (one story never sits on both sides).

- ``standard(df)``: the built-in train/val/test split column as masks;
- ``leave_one_family_out(df)``: train without one farm family, test on that family's farms (and the
  legit documents) of the test groups: does the model catch a farm template it has never seen?
- ``by_source(df, source)``: train without one corpus folder, test on it: does it transfer to
  publishers it has never seen?
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd


def assert_group_integrity(df: pd.DataFrame, train_mask, test_mask) -> None:
    """No group on both sides, and no row on both sides."""
    train_mask, test_mask = np.asarray(train_mask, bool), np.asarray(test_mask, bool)
    assert not (train_mask & test_mask).any(), "a row is in train and test"
    overlap = set(df.loc[train_mask, "group"]) & set(df.loc[test_mask, "group"])
    assert not overlap, f"{len(overlap)} group(s) in train and test, e.g. {next(iter(overlap))}"


def standard(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean masks of the frame's own ``split`` column."""
    return {name: (df["split"] == name).to_numpy() for name in ("train", "val", "test")}


def leave_one_family_out(df: pd.DataFrame, train_splits: tuple[str, ...] = ("train", "val"),
                         test_splits: tuple[str, ...] = ("test",)) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """For each farm family F: (F, train mask, test mask).

    Train: rows of ``train_splits`` groups except F's farms. Test: F's farms plus all legit and
    legit_aug rows of ``test_splits`` groups (other families' farms are left out of the test so the
    score is about F alone). Groups never straddle, since the split column is per group.
    """
    families = sorted(f for f in df.loc[df["label"] == 1, "family"].unique() if f)
    in_train = df["split"].isin(train_splits).to_numpy()
    in_test = df["split"].isin(test_splits).to_numpy()
    legit = (df["label"] == 0).to_numpy()
    for fam in families:
        is_fam = (df["family"] == fam).to_numpy()
        train = in_train & ~is_fam
        test = in_test & (is_fam | legit)
        assert_group_integrity(df, train, test)
        yield fam, train, test


def by_source(df: pd.DataFrame, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(train mask, test mask): train on every other corpus folder, test on ``source`` (all its rows)."""
    if source not in set(df["source"]):
        raise ValueError(f"no rows from source {source!r}")
    test = (df["source"] == source).to_numpy()
    test_groups = set(df.loc[test, "group"])
    train = ~test & ~df["group"].isin(test_groups).to_numpy()
    assert_group_integrity(df, train, test)
    return train, test
