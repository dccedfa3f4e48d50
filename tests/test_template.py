"""Template and boilerplate signs: farm snippets fire in HTML and text mode, real pages stay quiet."""

from __future__ import annotations

import json
import math

import pytest

from conftest import fixture_page
from spamdetect.page import Page
from spamdetect.signals import template

FARM_URL = "https://dailytrendhub.com/air-fryer"

# Signs a real publisher page should (almost) never show; their firing share on real pages is bounded.
FARM_ONLY = (
    "template.path_leaks", "template.placeholder_leaks", "template.shortcode_leaks", "template.spintax",
    "template.lorem_ipsum", "template.null_lines", "template.fake_ratings", "template.originally_appeared",
    "template.originally_foreign", "template.source_foreign", "template.ai_refusals", "template.faq_schema",
    "template.faq_blocks", "template.pagination", "template.rating_markup",
)
HTML_ONLY = ("template.share_links", "template.rating_markup", "template.faq_schema", "template.affiliate_links",
             "template.affiliate_link_share")
# Signs both modes must see on the farm fixture (HTML-only ones are checked separately).
TEXT_SIGNS = (
    "template.path_leaks", "template.placeholder_leaks", "template.shortcode_leaks", "template.spintax",
    "template.lorem_ipsum", "template.null_lines", "template.share_labels", "template.share_walls",
    "template.fake_ratings", "template.donation_appeals", "template.originally_appeared",
    "template.originally_foreign", "template.source_foreign", "template.pagination", "template.faq_blocks",
    "template.question_lines", "template.ai_refusals", "template.ai_style_per_1000w",
)


def _fires(value: float) -> bool:
    return not math.isnan(value) and value > 0


@pytest.fixture(scope="module")
def farm_html():
    return template.features(fixture_page("template_farm.html", url=FARM_URL))


@pytest.fixture(scope="module")
def farm_text():
    return template.features(fixture_page("template_farm.txt", url=FARM_URL))


def test_features_return_exactly_the_declared_names_in_order(farm_html, farm_text):
    assert list(farm_html) == list(template.FEATURES)
    assert list(farm_text) == list(template.FEATURES)
    assert all(name.startswith("template.") for name in template.FEATURES)


@pytest.mark.parametrize("name", TEXT_SIGNS)
def test_each_sign_fires_on_the_farm_snippet_in_html_mode(farm_html, name):
    assert _fires(farm_html[name]), name


@pytest.mark.parametrize("name", TEXT_SIGNS)
def test_each_sign_fires_on_the_farm_snippet_in_text_mode(farm_text, name):
    assert _fires(farm_text[name]), name


@pytest.mark.parametrize("name", HTML_ONLY)
def test_html_only_signs_fire_in_html_and_are_missing_in_text_mode(farm_html, farm_text, name):
    assert _fires(farm_html[name])
    assert math.isnan(farm_text[name])


def test_text_dump_of_the_farm_page_gives_the_same_text_signs():
    html_page = fixture_page("template_farm.html", url=FARM_URL)
    dumped = template.features(Page.from_text(html_page.to_text(), url=FARM_URL))
    direct = template.features(html_page)
    for name in TEXT_SIGNS:
        assert dumped[name] == pytest.approx(direct[name], rel=0.2), name


def test_share_wall_counts_each_repeated_wall(farm_html, farm_text):
    # the fixture has a wall at the top and another at the bottom
    assert farm_html["template.share_walls"] == 2
    assert farm_text["template.share_walls"] == 2
    assert farm_html["template.share_links"] >= 8


def test_a_few_share_buttons_are_no_wall():
    page = Page.from_text("Story title\nShare\nSome prose line that is not a share button at all.\nTweet\n")
    out = template.features(page)
    assert out["template.share_labels"] == 2
    assert out["template.share_walls"] == 0


def test_fake_rating_widgets_are_counted():
    page = Page.from_text("News story\nveryGood! (5776)\n★★★★★ 4.9 (1,234 votes)\nRating: 4.8/5\n")
    assert template.features(page)["template.fake_ratings"] == 4


def test_wire_credit_is_not_counted_as_originally_appeared():
    page = fixture_page("template_wire.html", url="https://springfieldgazette.com/bridge")
    out = template.features(page)
    assert out["template.wire_credits"] >= 2
    assert out["template.originally_appeared"] == 0
    assert out["template.source_foreign"] == 0
    assert math.isnan(out["template.originally_foreign"])


def test_source_wire_agency_is_a_wire_credit_in_text_mode():
    text = "Flood warnings issued\nRivers rose sharply overnight after heavy rain, officials said on Monday.\nSource: Reuters\n"
    out = template.features(Page.from_text(text, url="https://localpaper.example.com/floods"))
    assert out["template.wire_credits"] >= 1
    assert out["template.originally_appeared"] == 0
    assert out["template.source_foreign"] == 0


def test_originally_appeared_on_own_site_is_not_foreign():
    text = "Story\nThis article was originally published on Live Science.\n"
    out = template.features(Page.from_text(text, url="https://www.livescience.com/story"))
    assert out["template.originally_appeared"] == 1
    assert out["template.originally_foreign"] == 0


def test_originally_appeared_elsewhere_is_foreign():
    text = "Story\nThis story originally appeared on Grist.\n"
    out = template.features(Page.from_text(text, url="https://www.salon.com/story"))
    assert out["template.originally_foreign"] == 1


def test_date_after_first_published_is_no_attribution():
    text = "Story\nFirst published on Nov 20, 2019 at 10:15 IST\n"
    assert template.features(Page.from_text(text, url="https://x.example.com/a"))["template.originally_appeared"] == 0


def test_bare_faq_menu_item_is_no_faq_block():
    page = Page.from_text("Home\nFAQ\nContact\nImprint\nAbout us\n")
    assert template.features(page)["template.faq_blocks"] == 0


def test_comment_counts_are_no_pagination():
    page = Page.from_text("Story\n6817 387\n5559 252\n")
    assert template.features(page)["template.pagination"] == 0


def test_keyword_stuffing_shows_in_top_word_share_and_title_phrase(farm_text):
    assert farm_text["template.top_word_share"] > 0.08
    assert farm_text["template.title_phrase_repeats"] >= 8


@pytest.mark.parametrize("page", [
    Page.from_text(""),
    Page(html="<html></html>"),
    Page(html=b"\x00\xff\xfe binary \x89PNG junk \x00" * 50),
    Page(html="<html><body>" + "<p>Share</p><p>1</p><p>2</p><p>3</p>" * 20000 + "</body></html>"),
    Page.from_text("東京で新しい橋の建設が始まりました。\nよくある質問\nこれは何ですか？\n"),
])
def test_weird_pages_do_not_crash(page):
    out = template.features(page)
    assert list(out) == list(template.FEATURES)


def test_japanese_full_width_question_counts():
    page = Page.from_text("記事\nこれは何ですか？\n")
    assert template.features(page)["template.question_lines"] == 1


@pytest.fixture(scope="module")
def real_features(legit_records):
    # every 6th real page (~310): enough for firing shares, fast enough for the suite
    out = []
    for rec in legit_records[::6]:
        out.append(template.features(Page(html=rec.read_bytes(), url=rec.url, id=rec.key)))
    return out


@pytest.mark.parametrize("name", FARM_ONLY)
def test_farm_only_signs_rarely_fire_on_real_pages(real_features, name):
    share = sum(_fires(f[name]) for f in real_features) / len(real_features)
    assert share <= 0.05, f"{name} fires on {share:.1%} of real pages"


def test_ai_boilerplate_rate_is_low_on_real_pages(real_features):
    rates = [f["template.ai_style_per_1000w"] for f in real_features if not math.isnan(f["template.ai_style_per_1000w"])]
    assert sum(r > 2 for r in rates) / len(rates) <= 0.01


def test_share_walls_are_not_typical_of_real_pages(real_features):
    # real pages carry share buttons, but several walls on one page are rare
    assert sum(f["template.share_walls"] >= 2 for f in real_features) / len(real_features) <= 0.15


def test_share_on_network_is_one_button():
    page = Page.from_text("Story\nShare on Facebook Share on X | Teilen auf WhatsApp Email\n")
    assert template.features(page)["template.share_labels"] == 4


@pytest.mark.parametrize("declared", [["FAQPage", ["Question"]], [{"@id": "#faq"}, "FAQPage"], "FAQPage"])
def test_faq_schema_is_read_from_any_shape_of_type_a_page_declares(declared):
    # a list of types may hold nested lists or objects on real pages: the names in it still count
    ld = '{"@context": "https://schema.org", "@type": %s}' % json.dumps(declared)
    page = Page(html=f'<html><head><script type="application/ld+json">{ld}</script></head><body><p>x</p></body></html>')
    assert template.features(page)["template.faq_schema"] == 1.0
