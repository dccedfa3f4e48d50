"""Domain/URL signals: cheap registrations and copied site names fire, real publishers mostly do not."""

from __future__ import annotations

import math
import time

import pytest

from conftest import fixture_page
from spamdetect.page import Page
from spamdetect.signals.domain import FEATURES, features, load_domain_lists

FARM_URL = "https://best-news-24.xyz/2024/05/183457.html?ref=feed"
LIST_FEATURES = ("domain.in_farm_list", "domain.in_unreliable_list", "domain.in_reliable_list", "domain.quality_pc1")


def _lists_available() -> bool:
    from spamdetect.config import corpus_dir

    return load_domain_lists(corpus_dir() / "domain-lists") is not None


needs_lists = pytest.mark.skipif(not _lists_available(), reason="shared domain lists not found")


def test_returns_exactly_the_declared_features_as_floats_in_every_mode():
    pages = [
        fixture_page("domain_farm.html", url=FARM_URL),
        Page.from_text("A headline - Example\nbody text", url="https://example.com/a"),
        Page(html="<p>no url</p>"),
        Page(html=b"\x00\xff\xfe junk"),
    ]
    for page in pages:
        for use_lists in (False, True):
            out = features(page, use_lists=use_lists)
            assert tuple(out) == FEATURES
            assert all(isinstance(v, float) for v in out.values())


def test_page_without_url_is_all_missing():
    out = features(Page(html="<title>Story | Site</title><p>text</p>"), use_lists=True)
    assert all(math.isnan(v) for v in out.values())


def test_farm_like_url_fires_cheap_tld_digits_hyphens_and_path_features():
    out = features(fixture_page("domain_farm.html", url=FARM_URL))
    assert out["domain.cheap_tld"] == 1.0
    assert out["domain.label_digits"] == 2.0
    assert out["domain.label_hyphens"] == 2.0
    assert out["domain.label_length"] == len("best-news-24")
    assert out["domain.numeric_slug"] == 1.0
    assert out["domain.html_ending"] == 1.0
    assert out["domain.path_depth"] == 3.0
    assert out["domain.query_length"] == len("ref=feed")


def test_copied_title_site_name_does_not_match_the_domain():
    # the page says it is Reuters but lives on best-news-24.xyz
    assert features(fixture_page("domain_farm.html", url=FARM_URL))["domain.site_name_match"] < 0.5
    same = fixture_page("domain_farm.html", url="https://www.reuters.com/markets/stocks-rally")
    assert features(same)["domain.site_name_match"] == 1.0


@pytest.mark.parametrize("title, meta, url", [
    ("Die Lage am Morgen - Süddeutsche Zeitung", "", "https://www.sueddeutsche.de/politik/lage-1.123"),
    ("Storm hits coast – The Guardian", "", "https://www.theguardian.com/world/2024/storm"),
    ("Kommentar", "FAZ.NET", "https://www.faz.net/aktuell/kommentar.html"),
    ("Netzpolitik als Wahlkampfthema | Netz für alle", "", "https://netzfueralle.blog.rosalux.de/2019/10/x/"),
])
def test_own_site_name_matches_domain_incl_umlauts_meta_and_subdomain_sites(title, meta, url):
    og = f'<meta property="og:site_name" content="{meta}">' if meta else ""
    page = Page(html=f"<html><head><title>{title}</title>{og}</head><body><p>x</p></body></html>", url=url)
    assert features(page)["domain.site_name_match"] == 1.0


def test_site_name_is_missing_when_the_page_names_no_site():
    page = Page(html="<title>Just a headline without separator</title>", url="https://example.com/x")
    assert math.isnan(features(page)["domain.site_name_match"])
    page = Page(html="<title>上海聚一行工艺礼品有限公司 - 礼品</title>", url="http://0615235.com/")
    assert math.isnan(features(page)["domain.site_name_match"])


def test_text_mode_reads_the_first_line_as_title_and_the_url():
    page = Page.from_text("Storm hits coast | The Guardian\nHeavy rain fell overnight.",
                          url="https://www.theguardian.com/world/2024/jan/05/storm")
    out = features(page)
    assert out["domain.site_name_match"] == 1.0
    assert out["domain.path_depth"] == 5.0 and out["domain.cheap_tld"] == 0.0


def test_subdomain_depth_ignores_www_and_ip_hosts_have_no_label_features():
    assert features(Page(html="", url="http://www.a.b.example.co.uk/"))["domain.subdomain_depth"] == 2.0
    assert features(Page(html="", url="https://www.example.com/"))["domain.subdomain_depth"] == 0.0
    out = features(Page(html="", url="http://192.168.0.1:8080/a/b"))
    assert out["domain.host_is_ip"] == 1.0 and math.isnan(out["domain.label_length"])
    assert out["domain.path_depth"] == 2.0


@pytest.mark.parametrize("url", ["not a url at all", "http://[::1", "://", "http:///x", "\x00\x01", "x" * 5000])
def test_weird_urls_do_not_crash(url):
    out = features(Page(html="<title>a | b</title>", url=url), use_lists=True)
    assert tuple(out) == FEATURES


def test_list_features_are_missing_unless_asked_for():
    out = features(Page(html="", url="https://www.reuters.com/world/"))
    assert all(math.isnan(out[k]) for k in LIST_FEATURES)


@needs_lists
@pytest.mark.parametrize("url, key, value", [
    ("http://www.0099033.com/a.html", "domain.in_farm_list", 1.0),  # content-farm-terminator
    ("http://a.b.0099033.com/", "domain.in_farm_list", 1.0),  # subdomain of a listed farm
    ("https://against24.blogspot.com/x", "domain.in_farm_list", 1.0),  # "name.blogspot.*" entry
    ("https://qastack.cn/q/1", "domain.in_farm_list", 1.0),  # bad cloner
    ("https://sites.google.com/view/x", "domain.in_farm_list", 0.0),  # explicit allowlist
    ("https://tumblr.com/x", "domain.in_farm_list", 0.5),  # broad list counts half
    ("https://colorado911truth.org/", "domain.in_unreliable_list", 1.0),  # machine-made-media
    ("https://infowars.com/", "domain.in_unreliable_list", 1.0),
    ("https://www.reuters.com/world/", "domain.in_reliable_list", 1.0),
    ("https://www.reuters.com/world/", "domain.quality_pc1", 1.0),
    ("https://www.reuters.com/world/", "domain.in_farm_list", 0.0),
])
def test_list_membership_when_lists_are_used(url, key, value):
    assert features(Page(html="", url=url), use_lists=True)[key] == value


@needs_lists
def test_platform_subdomain_does_not_inherit_the_platform_quality_score():
    # blogspot.com itself is rated; a user's blog on it is not
    assert math.isnan(features(Page(html="", url="https://someone.blogspot.com/"), use_lists=True)["domain.quality_pc1"])


def test_absent_lists_give_missing_list_features(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAMDETECT_CORPUS", str(tmp_path))
    out = features(Page(html="", url="http://www.0099033.com/a.html"), use_lists=True)
    assert all(math.isnan(out[k]) for k in LIST_FEATURES)
    assert out["domain.label_digits"] == 7.0  # the rest still works


def _real_pages(legit_records, n=150):
    recs = [r for r in legit_records if r.url][:: max(1, len(legit_records) // n)][:n]
    return [Page(html=r.read_bytes(), url=r.url) for r in recs]


@pytest.fixture(scope="module")
def real_pages(legit_records):
    return _real_pages(legit_records)


def test_real_publishers_rarely_fire_farm_features(real_pages):
    rows = [features(p, use_lists=_lists_available()) for p in real_pages]
    n = len(rows)
    assert sum(r["domain.cheap_tld"] == 1.0 for r in rows) / n < 0.05
    assert sum(r["domain.label_digits"] >= 3 for r in rows) / n < 0.03
    assert sum(r["domain.in_farm_list"] == 1.0 for r in rows) / n < 0.02
    named = [r["domain.site_name_match"] for r in rows if not math.isnan(r["domain.site_name_match"])]
    assert len(named) > 0.6 * n
    assert sum(v >= 0.5 for v in named) / len(named) > 0.8  # real sites name themselves


def test_cost_per_page_is_well_under_a_millisecond(real_pages):
    for p in real_pages:  # parse outside the timing: the tree is shared by all families
        p.title, p.meta
    features(real_pages[0], use_lists=True)  # list loading happens once
    start = time.perf_counter()
    for p in real_pages:
        features(p, use_lists=True)
    per_page = (time.perf_counter() - start) / len(real_pages)
    assert per_page < 0.003, f"{per_page * 1000:.2f} ms per page"
