"""Page views: the shared tokenisation and whitespace folding say exactly what the plain definitions say."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from spamdetect.page import Page, _is_prose, normalize_many, normalize_space, words

_TEXT = st.text(alphabet=st.sampled_from(list(string.ascii_letters + " .,'-’\n\t\r\u00a0\u200b\u2028\ufeff\u2003İΣσ")),
                max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, max_size=8))
def test_normalize_many_is_normalize_space_item_by_item(texts):
    assert normalize_many(texts) == [normalize_space(t) for t in texts]


def test_normalize_many_survives_texts_holding_the_block_sentinel():
    texts = ["a\ue000b", "  c  "]
    assert normalize_many(texts) == [normalize_space(t) for t in texts]


def test_prose_views_match_their_definitions_on_a_real_page(real_page):
    page = real_page("postlight-parser/fixtures/www.cnn.com")
    assert page.line_words == [words(ln) for ln in page.lines]
    assert page.paragraphs == [ln for ln in page.lines if _is_prose(ln, len(words(ln)))]
    assert len(page.paragraphs) >= 5
    assert page.main_words == words(page.main_text)
    assert page.story_words(10 ** 9) is page.main_words
    assert page.story_words(500) == words(page.main_text[:500])


def test_hrefs_are_the_links_hrefs_whichever_view_comes_first(real_page):
    first = real_page("postlight-parser/fixtures/www.cnn.com")
    hrefs = first.hrefs  # straight from the tree
    second = real_page("postlight-parser/fixtures/www.cnn.com")
    links = second.links
    assert len(hrefs) > 50 and hrefs == [link.href for link in links] == second.hrefs  # second: from links
    assert Page.from_text("A title\nsome text").hrefs == []


def test_lines_leave_the_tree_as_parsed(real_page):
    page = real_page("postlight-parser/fixtures/www.cnn.com")
    before = page.tree.body.html
    assert page.lines
    assert page.tree.body.html == before
    assert all(ln == normalize_space(ln) and ln for ln in page.lines)


@settings(max_examples=100, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=6))
def test_text_mode_words_and_paragraphs_match_their_definitions(chunks):
    page = Page.from_text("\n".join(chunks))
    assert page.line_words == [words(ln) for ln in page.lines]
    assert page.main_words == words(page.main_text)


def test_a_pandas_row_s_missing_cells_make_a_page_without_those_fields():
    """Page(**row) from a DataFrame row: NaN, pd.NA and NaT mean "not given" (they failed the signals:
    'float' object has no attribute 'lower', and NaT in the date arithmetic)."""
    from datetime import date, datetime

    import pandas as pd
    import pytest

    from spamdetect.signals import page_features

    html = ("<html><head><title>Council votes</title></head><body><p>Posted January 2, 2023</p><p>"
            + "The council met on Tuesday to decide on the budget for the year. " * 10 + "</p></body></html>")
    plain = page_features(Page(html=html))
    for missing in (float("nan"), pd.NA, pd.NaT):
        page = Page(html=html, text_input=missing, url=missing, crawl_date=missing, id=missing)
        assert (page.url, page.crawl_date, page.id, page.text_input) == (None, None, None, None)
        assert page_features(page) == pytest.approx(plain, nan_ok=True)
    with pytest.raises(ValueError, match="needs html or text"):
        Page(html=float("nan"))
    with pytest.raises(TypeError, match="url must be a string, got int"):
        Page(html=html, url=123)
    with pytest.raises(TypeError, match="crawl_date must be a datetime, got str"):
        Page(html=html, crawl_date="2024-05-01")
    assert Page(html=html, crawl_date=date(2024, 5, 1)).crawl_date == datetime(2024, 5, 1)
