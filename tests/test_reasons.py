"""Reasons: page-specific sentences from signal values, only for the groups that drove the score."""

from __future__ import annotations

from datetime import date

from spamdetect import reasons


def test_dates_reason_prints_the_stamp_and_the_story_year():
    values = {"dates.stamp_ordinal": float(date(2025, 4, 8).toordinal()), "dates.story_latest_year": 2024.0,
              "dates.stamp_minus_story_year": 1.0, "dates.has_stamp": 1.0}
    out = reasons.explain(values, {"dates": 2.0}, farm=True)
    assert out == ["Dates: stamped 2025-04-08 but the story's latest year is 2024"]


def test_link_list_reason_counts_unrelated_headlines():
    values = {"link_lists.n_headlines": 10.0, "link_lists.n_unrelated": 9.0}
    assert reasons.explain(values, {"link_lists": 1.0}, farm=True) == [
        "Link lists: 9 of 10 headlines unrelated to the story"]


def test_groups_below_the_minimum_contribution_are_not_reasons():
    values = {"link_lists.n_headlines": 10.0, "link_lists.n_unrelated": 9.0}
    assert reasons.explain(values, {"link_lists": 0.1}, farm=False) == ["no strong content-farm signs"]


def test_reasons_come_strongest_first_and_are_capped():
    values = {"template.fake_ratings": 2.0, "author.my_name_is": 1.0, "headline.year_suffix": 1.0,
              "domain.cheap_tld": 1.0, "link_lists.n_headlines": 5.0, "link_lists.n_unrelated": 5.0,
              "template.faq_blocks": 1.0}
    contrib = {"template": 3.0, "author": 5.0, "headline": 1.0, "domain": 0.9, "link_lists": 2.0, "dates": 4.0}
    out = reasons.explain(values, contrib, farm=True)
    assert out[0].startswith("Author profile looks generated")
    assert out[1].startswith("Template: 2 fake ratings")
    assert len(out) <= reasons.MAX_REASONS


def test_groups_cover_every_feature_family():
    names = ["link_lists.n_blocks", "author.phone", "dates.has_stamp", "text_quality.word_count"]
    groups = reasons.groups_for(names)
    assert {k: list(v) for k, v in groups.items()} == {
        "link_lists": [0], "author": [1], "dates": [2], "text_quality": [3]}


def test_text_channel_reason_keeps_its_kind_before_the_colon_and_quotes_words_only_when_shown():
    """Summaries and site reports group reasons by the text before ':'; the score must come after it."""
    from spamdetect.reasons import explain

    calls = []

    def words() -> str:
        calls.append(1)
        return "'near me', 'who loves'"

    shown = explain({"text_model.farm_score": 0.81}, {"text_model": 2.0}, farm=True, details={"text_model": words})
    assert shown == ["Wording closer to farm pages than to publishers': text model 0.81; 'near me', 'who loves'"]
    hidden = explain({"text_model.farm_score": 0.3}, {"text_model": 0.1}, farm=False, details={"text_model": words})
    assert hidden == ["no strong content-farm signs"] and len(calls) == 1
