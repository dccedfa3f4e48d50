"""Link-list blocks and signals: farm Related lists fire, on-topic lists and nav menus do not."""

from __future__ import annotations

import math
import random
import time

import pytest

from conftest import fixture_page
from spamdetect.link_blocks import find_link_blocks, is_headline, is_label
from spamdetect.page import Page
from spamdetect.signals import link_lists

FARM_URL = "https://www.millbrook-times.com/news/bridge-funding"
ONTOPIC_URL = "https://valleycourier.co.uk/news/flood"


def _feats(name: str, url: str | None = None) -> dict[str, float]:
    return link_lists.features(fixture_page(name, url=url))


def test_features_return_exactly_the_declared_keys_in_order():
    out = _feats("link_lists_farm.html", FARM_URL)
    assert list(out) == list(link_lists.FEATURES)
    assert all(name.startswith("link_lists.") for name in link_lists.FEATURES)


def test_farm_page_unrelated_related_list_fires():
    out = _feats("link_lists_farm.html", FARM_URL)
    assert out["link_lists.n_blocks"] == 3
    assert out["link_lists.unrelated_share"] >= 0.9
    assert out["link_lists.related_unrelated_share"] >= 0.9
    assert out["link_lists.offsite_share"] > 0.5
    assert out["link_lists.farm_label_share"] > 0  # "Ranking", "Don't Miss"
    assert out["link_lists.numbered_share"] > 0  # the Ranking block is an <ol>


def test_farm_blocks_are_found_by_heading_with_their_labels():
    blocks = find_link_blocks(fixture_page("link_lists_farm.html"))
    assert [b.label for b in blocks] == ["Related", "Ranking", "Don't Miss"]
    assert all(b.how == "heading" for b in blocks)
    assert blocks[0].headlines[0].startswith("Hollywood star reveals")
    assert len(blocks[0].hrefs) == len(blocks[0].headlines)


def test_on_topic_related_list_gets_low_unrelated_share():
    out = _feats("link_lists_ontopic.html", ONTOPIC_URL)
    assert out["link_lists.n_blocks"] == 1  # heading and class find one block, counted once
    assert out["link_lists.unrelated_share"] <= 0.25
    assert out["link_lists.mean_similarity"] >= 0.5
    assert out["link_lists.offsite_share"] == 0
    assert out["link_lists.farm_label_share"] == 0


def test_nav_menus_tags_and_read_more_links_are_not_link_blocks():
    page = fixture_page("link_lists_nav.html", url="https://bakery.example.com/x")
    assert find_link_blocks(page) == []
    out = link_lists.features(page)
    assert out["link_lists.n_blocks"] == 0 and math.isnan(out["link_lists.unrelated_share"])


def test_footer_menu_under_more_label_is_not_a_block():
    labels = [b.label for b in find_link_blocks(fixture_page("link_lists_ontopic.html"))]
    assert "More" not in labels


def test_text_mode_finds_label_plus_headline_lines():
    page = fixture_page("link_lists_farm.txt")
    blocks = find_link_blocks(page)
    assert [b.label for b in blocks] == ["Related Posts", "Ranking"]
    assert all(b.how == "text" and b.hrefs == () for b in blocks)
    assert len(blocks[1].headlines) == 4  # rank-number lines between headlines are skipped
    out = link_lists.features(page)
    assert out["link_lists.unrelated_share"] >= 0.9
    assert math.isnan(out["link_lists.offsite_share"])  # no URLs in text
    assert out["link_lists.numbered_share"] > 0


def test_text_mode_on_topic_list_is_related_and_menu_is_not_a_block():
    page = fixture_page("link_lists_ontopic.txt")
    assert [b.label for b in find_link_blocks(page)] == ["Related stories"]
    assert link_lists.features(page)["link_lists.unrelated_share"] <= 0.25


def test_html_and_text_of_the_farm_page_agree():
    html = link_lists.features(fixture_page("link_lists_farm.html", FARM_URL))
    text = link_lists.features(Page.from_text(fixture_page("link_lists_farm.html").to_text()))
    assert text["link_lists.n_blocks"] >= 2
    assert text["link_lists.unrelated_share"] >= 0.9 and html["link_lists.unrelated_share"] >= 0.9


def test_thresholds_are_keyword_arguments():
    page = fixture_page("link_lists_ontopic.html", ONTOPIC_URL)
    strict = link_lists.features(page, min_similarity=1.01)
    assert strict["link_lists.unrelated_share"] == 1.0


@pytest.mark.parametrize("label", ["Related", "Related Posts:", "RANKING", "Don't Miss", "You may also like",
                                   "Mehr zum Thema", "Das könnte Sie auch interessieren", "Noticias relacionadas",
                                   "À lire aussi", "Lo más leído", "Most read"])
def test_known_labels_match(label):
    assert is_label(label)


@pytest.mark.parametrize("line", ["News", "The council voted on Tuesday.", "Related to the crash, police said",
                                  "Morecambe"])
def test_ordinary_lines_are_not_labels(line):
    assert not is_label(line)


@pytest.mark.parametrize("text,ok", [("Read more", False), ("Next", False), ("12 March 2024", False), ("2024", False),
                                     ("Sport", False), ("Council approves new bridge funding", True),
                                     ("東京で新しい橋の建設が始まる予定です", True)])
def test_headline_filter(text, ok):
    assert is_headline(text) is ok


def test_weird_inputs_do_not_crash():
    for page in (Page(html=""), Page(html=b"\x00\xff\xfe binary"), Page(html="<html><body></body></html>"),
                 Page.from_text(""), Page.from_text("Related\n"), Page(html="<h3>Related</h3>" + "<a href=x>a b c</a>" * 5000),
                 Page(html='<h3>Rel"ated\\</h3><ul><li><a href="/a">One two three four</a></li></ul>')):
        out = link_lists.features(page)
        assert list(out) == list(link_lists.FEATURES)


def test_real_pages_run_fast_and_rarely_fire(legit_records):
    rng = random.Random(7)
    sample = rng.sample(legit_records, min(150, len(legit_records)))
    spent = 0.0
    rows = []
    for rec in sample:
        page = Page(html=rec.read_bytes(), url=rec.url)
        page.lines, page.main_text  # parsing is not this family's cost
        t = time.process_time()
        rows.append(link_lists.features(page))
        spent += time.process_time() - t
    assert spent / len(sample) < 0.010  # budget ~1-2 ms; generous bound for loaded CI machines
    with_blocks = [r for r in rows if r["link_lists.n_blocks"] > 0]
    assert len(with_blocks) >= 0.3 * len(rows)  # real news pages do carry link lists
    offsite = [r for r in with_blocks if r["link_lists.offsite_share"] > 0.5]
    assert len(offsite) <= 0.1 * len(with_blocks)
    farmish = [r for r in with_blocks if r["link_lists.farm_label_share"] > 0]
    assert len(farmish) <= 0.1 * len(with_blocks)


def test_real_on_topic_related_list_is_judged_related(real_page):
    page = real_page("70cb2d5bca75ab5a8f6bb378a38a52f882f6bda508de93b12502e74936d86ff2")  # BBC newsbeat-50470672
    out = link_lists.features(page)
    assert out["link_lists.n_blocks"] >= 1
    assert out["link_lists.related_unrelated_share"] <= 0.34
