"""The corpus builder on a small slice of the real corpus (limit=30): labels, modes, splits, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spamdetect.corpus import build as B
from spamdetect.corpus.operations import visible_ok
from spamdetect.corpus.splits import assert_group_integrity, by_source, leave_one_family_out, standard
from spamdetect.domains import registrable_domain
from spamdetect.page import Page, normalize_space


@pytest.fixture(scope="module")
def corpus(legit_records, tmp_path_factory, request):
    mp = pytest.MonkeyPatch()
    mp.setenv("SPAMDETECT_BUILD", str(tmp_path_factory.mktemp("build")))
    request.addfinalizer(mp.undo)
    return B.build_corpus(limit=30, seed=0, workers=2, progress=False)


def test_every_real_page_stays_a_legit_row(corpus):
    legit = corpus[corpus.variant == "legit"]
    assert legit.group.nunique() == 30 and (legit.label == 0).all()
    assert set(corpus.group) == set(legit.group)


def test_every_document_has_one_html_and_one_text_row(corpus):
    modes = corpus.groupby("doc_id")["mode"].apply(sorted)
    assert (modes.apply(lambda m: m == ["html", "text"])).all()
    html_rows, text_rows = corpus[corpus["mode"] == "html"], corpus[corpus["mode"] == "text"]
    assert html_rows.html.notna().all() and html_rows.text.isna().all()
    assert text_rows.text.notna().all() and text_rows.html.isna().all()
    assert (text_rows.text.str.len() > 200).mean() > 0.9


def test_labels_follow_variants_and_farms_exist(corpus):
    assert (corpus.loc[corpus.variant == "farm", "label"] == 1).all()
    assert (corpus.loc[corpus.variant.isin(["legit", "legit_aug"]), "label"] == 0).all()
    assert (corpus.variant == "legit_aug").any() and (corpus.variant == "farm").sum() >= 40
    assert (corpus.loc[corpus.label == 0, "family"] == "").all()
    assert (corpus.loc[corpus.label == 1, "family"] != "").all()


def test_groups_never_straddle_splits(corpus):
    assert (corpus.groupby("group")["split"].nunique() == 1).all()
    masks = standard(corpus)
    assert_group_integrity(corpus, masks["train"], masks["test"])
    assert_group_integrity(corpus, masks["train"], masks["val"])


def test_split_of_is_about_70_15_15_and_seeded():
    splits = pd.Series([B.split_of(f"g{i}", 0) for i in range(4000)]).value_counts(normalize=True)
    assert abs(splits["train"] - 0.70) < 0.03 and abs(splits["test"] - 0.15) < 0.03
    assert [B.split_of(f"g{i}", 0) for i in range(50)] != [B.split_of(f"g{i}", 1) for i in range(50)]


def test_recorded_operations_are_present_in_html_and_text(corpus):
    rows = corpus[corpus.variant != "legit"]
    checked = 0
    for _, r in rows.iterrows():
        rendered = r.html if r["mode"] == "html" else r.text
        text = normalize_space(Page(html=rendered).to_text() if r["mode"] == "html" else rendered)
        ops = json.loads(r.details)["ops"]
        assert [o["op"] for o in ops] == json.loads(r.operations) and r.n_ops == len(ops)
        for o in ops:
            for ev in o["evidence"]:
                assert visible_ok(ev, text), (r.doc_id, r["mode"], o["op"], ev)
                checked += 1
    assert checked > 100


def test_partial_farms_have_one_or_two_operations(corpus):
    partial = corpus[corpus.family == "in_place"]
    assert len(partial) and partial.n_ops.between(1, 2).all()
    assert (corpus.loc[corpus.variant == "farm", "n_ops"] >= 1).all()


def test_farm_html_parses_and_yields_the_original_story_paragraphs(corpus):
    html_rows = corpus[corpus["mode"] == "html"]
    legit_pars = {g: set(Page(html=h).paragraphs) for g, h in html_rows[html_rows.variant == "legit"][["group", "html"]].values}
    for _, r in html_rows[html_rows.variant == "farm"].iterrows():
        pars = Page(html=r.html, url=r.url).paragraphs
        assert len(pars) >= 3, r.doc_id
        original = legit_pars[r.group]
        words = lambda s: set(s.lower().split())  # noqa: E731
        overlap = [max((len(words(p) & words(o)) / len(words(p) | words(o)) for o in original), default=0) for p in pars]
        assert max(overlap) >= 0.5, r.doc_id


def test_farm_urls_sit_on_farm_domains_and_some_rows_have_none(corpus):
    farms = corpus[(corpus.variant == "farm") & corpus.url.notna() & (corpus.family != "in_place")]
    origin = corpus[corpus.variant == "legit"].drop_duplicates("group").set_index("group")
    orig_url = lambda g: origin.loc[g, "url"] if isinstance(origin.loc[g, "url"], str) else "x.invalid"  # noqa: E731
    moved = [registrable_domain(u) != registrable_domain(orig_url(g)) for g, u in farms[["group", "url"]].values]
    assert np.mean(moved) > 0.95
    assert corpus.url.isna().any()


def test_restamped_farms_carry_a_later_date_and_crawl_dates_are_set(corpus):
    farms = corpus[(corpus.variant == "farm") & (corpus["mode"] == "html")]
    for _, r in farms.iterrows():
        for o in json.loads(r.details)["ops"]:
            if o["op"] == "restamp_date":
                assert int(o["stamp"][:4]) > o["story_year"]
                if o["after_crawl"]:
                    assert r.crawl_date < pd.Timestamp(o["stamp"])
    assert corpus.crawl_date.notna().mean() > 0.7


def test_build_is_deterministic_and_cached(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("SPAMDETECT_BUILD", str(tmp_path))
    a = B.build_corpus(limit=6, seed=3, workers=2, progress=False, cache=False)
    b = B.build_corpus(limit=6, seed=3, workers=1, progress=False, cache=True)
    assert B.fingerprint(a) == B.fingerprint(b)
    pd.testing.assert_frame_equal(a, b)
    assert list((tmp_path / "corpus").glob("*.parquet"))
    c = B.build_corpus(limit=6, seed=3, workers=1, progress=False, cache=True)  # from the cache
    assert c.attrs["fingerprint"] == a.attrs["fingerprint"]
    pd.testing.assert_frame_equal(a, c)
    d = B.build_corpus(limit=3, seed=4, workers=1, progress=False, cache=False)
    assert B.fingerprint(d) != B.fingerprint(B.build_corpus(limit=3, seed=3, workers=1, progress=False, cache=False))


def test_save_and_load_roundtrip(corpus, tmp_path):
    path = B.save_corpus(corpus, tmp_path / "c.parquet")
    back = B.load_corpus(path)
    assert back.attrs["fingerprint"] == corpus.attrs["fingerprint"] == B.fingerprint(back)
    assert len(back) == len(corpus) and list(back.columns) == B.COLUMNS


def test_leave_one_family_out_holds_out_one_family_without_shared_groups(corpus):
    seen = []
    for fam, train, test in leave_one_family_out(corpus):
        seen.append(fam)
        assert not (corpus.loc[train, "family"] == fam).any()
        fams = set(corpus.loc[test & (corpus.label == 1).to_numpy(), "family"])
        assert fams <= {fam}
        assert set(corpus.loc[train, "group"]).isdisjoint(corpus.loc[test, "group"])
    assert "in_place" in seen and len(seen) >= 5


def test_by_source_tests_on_an_unseen_folder(corpus):
    source = corpus.source.iloc[0]
    train, test = by_source(corpus, source)
    assert set(corpus.loc[test, "source"]) == {source}
    assert source not in set(corpus.loc[train, "source"]) and train.any()
    with pytest.raises(ValueError):
        by_source(corpus, "no-such-folder")
