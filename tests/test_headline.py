"""Headline signals: doctored titles fire on pages we write and stay quiet on real ones."""

from __future__ import annotations

import math

import pytest

from conftest import fixture_page
from spamdetect.page import Page
from spamdetect.signals import headline

FARM_URL = "https://newsbuzzhub.com/2025/01/12/story"


def _nan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


@pytest.fixture(scope="module")
def real_features(legit_records):
    """Headline features of every 5th real page (keeps the file fast), with the record."""
    out = []
    for rec in legit_records[::5]:
        page = Page(html=rec.read_bytes(), url=rec.url, id=rec.key)
        out.append((rec, page, headline.features(page)))
    return out


def _rate(rows, name, pred=lambda v: v > 0):
    vals = [f[name] for _, _, f in rows if not _nan(f[name])]
    return sum(map(pred, vals)) / len(vals), len(vals)


def test_returns_exactly_the_declared_features_in_both_modes():
    for page in (fixture_page("headline_farm.html", url=FARM_URL), fixture_page("headline_farm.txt"),
                 Page(html=""), Page.from_text(" ")):
        assert list(headline.features(page)) == list(headline.FEATURES)


def test_farm_headline_fires_on_year_suffix_foreign_site_name_and_spinner_phrases():
    f = headline.features(fixture_page("headline_farm.html", url=FARM_URL))
    assert f["headline.year_suffix"] == 1.0
    assert f["headline.site_suffix_mismatch"] == 1.0  # "The Daily Courier" on newsbuzzhub.com
    assert f["headline.spinner_in_title"] >= 2  # "Regulation Enforcement", "Main Govt"
    assert f["headline.spinner_per_1k"] > 20
    assert f["headline.title_h1_jaccard"] < 0.2 and f["headline.title_og_jaccard"] < 0.3


def test_clean_copy_of_the_same_story_stays_quiet():
    f = headline.features(fixture_page("headline_legit.html", url="https://www.example-news.com/a/1"))
    assert f["headline.year_suffix"] == 0.0
    assert f["headline.site_suffix_mismatch"] == 0.0
    assert f["headline.spinner_in_title"] == 0.0 and f["headline.spinner_per_1k"] == 0.0
    assert f["headline.title_h1_jaccard"] == 1.0 and f["headline.title_og_jaccard"] == 1.0
    assert f["headline.rare_word_share"] < 0.2


def test_template_text_in_title_counts_as_leak():
    f = headline.features(fixture_page("headline_template.html", url="https://x.com/"))
    assert f["headline.template_leak"] >= 2  # "{{post_title}}" and "Just another WordPress site"


@pytest.mark.parametrize("title, fires", [
    ("Best Budget Laptops (2024)", True),
    ("Election results [2025] | Example", True),
    ("Wahlergebnisse - 2024", True),
    ("The 2024 election was close", False),
    ("Oscars 2024: the winners", False),
    ("COVID-19 cases rise", False),
])
def test_year_suffix_only_at_the_end_of_the_title(title, fires):
    f = headline.features(Page(html=f"<html><head><title>{title}</title></head><body></body></html>"))
    assert f["headline.year_suffix"] == float(fires)


@pytest.mark.parametrize("title, url, mismatch", [
    ("Story | The New York Times", "https://www.nytimes.com/2020/a.html", 0.0),
    ("Story - Süddeutsche Zeitung", "https://www.sueddeutsche.de/x", 0.0),
    ("Story – FAZ.NET", "https://www.faz.net/x", 0.0),
    ("Story - The Jerusalem Post", "https://www.jpost.com/x", 0.0),
    ("Story | The New York Times", "https://dailynewsbuzz.net/x", 1.0),
])
def test_site_suffix_is_compared_with_the_domain(title, url, mismatch):
    f = headline.features(Page(html=f"<title>{title}</title>", url=url))
    assert f["headline.site_suffix_mismatch"] == mismatch


def test_site_suffix_mismatch_is_nan_without_url_or_latin_letters():
    assert _nan(headline.features(Page(html="<title>Story | Site</title>"))["headline.site_suffix_mismatch"])
    f = headline.features(Page(html="<title>記事 | 読売新聞オンライン</title>", url="https://www.yomiuri.co.jp/x"))
    assert _nan(f["headline.site_suffix_mismatch"])


def test_text_mode_reads_title_from_first_line_and_leaves_html_only_features_nan():
    f = headline.features(fixture_page("headline_farm.txt", url="https://newsbuzzhub.com/x"))
    assert f["headline.year_suffix"] == 1.0
    assert f["headline.clickbait"] >= 1  # "You Won't Believe"
    assert f["headline.spinner_in_title"] >= 2
    assert f["headline.spinner_per_1k"] > 20
    assert all(_nan(f[k]) for k in ("headline.title_h1_jaccard", "headline.title_og_jaccard", "headline.h1_og_jaccard"))


def test_spinner_phrases_are_found_across_line_breaks_and_case():
    text = "Officers of the Regulation\nEnforcement unit met at the White Home; a white home stood nearby."
    assert sorted(headline.spinner_phrases(text)) == ["White Home", "regulation enforcement"]


def test_rare_words_and_spinner_are_nan_for_non_english_pages():
    page = Page(html="<html lang='de'><title>Neue Radwege für die Innenstadt beschlossen</title><body></body></html>")
    f = headline.features(page)
    assert _nan(f["headline.rare_word_share"]) and _nan(f["headline.spinner_in_title"])


def test_weird_input_does_not_crash():
    for page in (Page(html=b"\x00\xff\xfe" * 1000), Page(html="<html><head><title></title></head></html>"),
                 Page(html="<title>" + "word | " * 5000 + "</title>", url="https://a.com/"),
                 Page.from_text(""), Page.from_text("\n\n")):
        f = headline.features(page)
        assert set(f) == set(headline.FEATURES)


def test_common_word_list_is_small_and_sane():
    words = headline.common_words()
    assert 4000 <= len(words) <= 6000
    assert {"the", "police", "government", "said"} <= words


# ----- real pages ------------------------------------------------------------------------


def test_real_titles_rarely_end_with_a_year(real_features):
    rate, n = _rate(real_features, "headline.year_suffix")
    assert n > 300 and rate < 0.01


def test_real_pages_rarely_show_template_leaks_or_spinner_phrases(real_features):
    assert _rate(real_features, "headline.template_leak")[0] < 0.01
    rate, n = _rate(real_features, "headline.spinner_per_1k")
    assert n > 100 and rate < 0.02  # measured 0.3% over the whole corpus


def test_real_site_suffixes_mostly_name_the_site(real_features):
    rate, n = _rate(real_features, "headline.site_suffix_mismatch")
    assert n > 200 and rate < 0.15  # measured 8.8% over the whole corpus (blog names, section names)


def test_real_titles_agree_with_og_title(real_features):
    vals = sorted(f["headline.title_og_jaccard"] for _, _, f in real_features
                  if not _nan(f["headline.title_og_jaccard"]))
    assert vals[len(vals) // 2] > 0.8


def test_rare_word_share_on_held_out_real_titles_is_modest(legit_records):
    # postlight-parser pages did not shape the word list (see experiments/build_headline_words.py)
    vals = []
    for rec in legit_records:
        if rec.source == "postlight-parser":
            v = headline.features(Page(html=rec.read_bytes(), url=rec.url))["headline.rare_word_share"]
            if not _nan(v):
                vals.append(v)
    vals.sort()
    assert len(vals) > 80
    assert vals[len(vals) // 2] < 0.3  # measured median 0.19 (names and jargon)
