"""Author-profile signals: generated farm bios fire, real bylines and bios do not (HTML and text mode)."""

from __future__ import annotations

import math
import random

import pytest
from conftest import fixture_page

from spamdetect.page import Page
from spamdetect.signals import author
from spamdetect.signals.author import FEATURES, FIRE_SCORE

SCORE = "author.generated_bio_score"
# Markers that belong to a persona; contact details (address, phone, email) also sit in real footers.
PERSONA = ("author.honorific_name", "author.hobby_list", "author.my_name_is", "author.writer_phrase",
           "author.odd_job_title", "author.info_block")


def feats(page: Page) -> dict[str, float]:
    out = author.features(page)
    assert list(out) == list(FEATURES)
    assert all(isinstance(v, float) for v in out.values())
    return out


def as_text(page: Page) -> Page:
    return Page.from_text(page.to_text(), url=page.url)


# ----- generated bios fire ------------------------------------------------------------------

def test_generated_profile_block_fires_in_html():
    f = feats(fixture_page("author_farm_profile.html", url="https://greenfielddailyhub.example/news/rates"))
    assert f[SCORE] >= 3 * FIRE_SCORE
    assert f["author.profile_fields"] >= 6  # Name, Birthday, Address, Phone, Job, Hobby, Introduction
    assert f["author.info_block"] == 1.0
    assert f["author.counters"] >= 3  # Views, Rating x/5, voted by users, readers found helpful
    for name in ("author.honorific_name", "author.street_address", "author.phone", "author.hobby_list",
                 "author.my_name_is", "author.odd_job_title"):
        assert f[name] >= 1, name
    assert f["author.writer_phrase"] >= 2  # "person who loves writing", "share my knowledge", adjective pile
    assert f["author.bio_marker_kinds"] >= 8


@pytest.mark.parametrize("page", [
    fixture_page("author_farm_profile.txt"),
    as_text(fixture_page("author_farm_profile.html")),
], ids=["wet_dump", "html_to_text"])
def test_generated_profile_block_fires_in_text_mode(page):
    f = feats(page)
    assert f[SCORE] >= 3 * FIRE_SCORE
    assert f["author.profile_fields"] >= 6 and f["author.info_block"] == 1.0
    assert f["author.my_name_is"] == 1.0 and f["author.hobby_list"] >= 1
    assert math.isnan(f["author.byline_consistent"])  # needs meta / JSON-LD


def test_hipster_author_box_fires_in_html_and_text():
    page = fixture_page("author_farm_bio.html")
    for f in (feats(page), feats(as_text(page))):
        assert f[SCORE] >= 2 * FIRE_SCORE
        assert f["author.odd_job_title"] >= 3  # happiness strategist, coffee evangelist, twitter ninja, ...
        assert f["author.writer_phrase"] >= 2 and f["author.my_name_is"] == 1.0
        assert f["author.street_address"] >= 1 and f["author.phone"] >= 1 and f["author.email"] >= 1


def test_generator_intro_sentence_alone_fires():
    page = Page.from_text("Fed holds rates steady\nThe Federal Reserve left rates unchanged on Wednesday.\n"
                          "My name is Reed Wilderman, I am a faithful, bright, lucky, adventurous person who loves "
                          "writing and wants to share my knowledge and understanding with you.")
    f = feats(page)
    assert f["author.my_name_is"] == 1.0 and f["author.writer_phrase"] >= 2
    assert f[SCORE] >= FIRE_SCORE


def test_german_generated_profile_fires():
    page = Page.from_text(
        "Autoreninformationen\nName: Frau Lisa Sommer\nGeburtstag: 1990-01-02\nAdresse: Hauptstraße 12, 10115 Berlin\n"
        "Telefon: +49 30 1234567\nBeruf: Gastronomie-Berater\nHobby: Wandern, Lesen, Kochen, Schach\n"
        "Einführung: Mein Name ist Frau Lisa Sommer, ich bin ein kluger, fröhlicher, ehrlicher Mensch, der gerne "
        "schreibt und mein Wissen und Verständnis mit Ihnen teilen möchte.")
    f = feats(page)
    assert f["author.profile_fields"] >= 6 and f["author.info_block"] == 1.0 and f["author.my_name_is"] == 1.0
    assert f[SCORE] >= 2 * FIRE_SCORE


# ----- real bylines and bios do not ---------------------------------------------------------

def test_journalist_bio_with_newsroom_contacts_does_not_fire():
    page = fixture_page("author_journalist.html", url="https://www.northporttimes.com/climate/heat-grid")
    for f in (feats(page), feats(as_text(page))):
        assert f[SCORE] == 0.0  # contact details alone (footer, "reach her at") never make a persona
        assert all(f[name] == 0.0 for name in PERSONA), {n: f[n] for n in PERSONA}
        assert f["author.byline_present"] == 1.0
    assert feats(page)["author.byline_consistent"] == 1.0  # "By Jane Smith" = meta / JSON-LD "Jane Smith"


def test_wire_byline_is_a_consistent_byline_not_a_bio():
    html = fixture_page("author_wire.html", url="https://www.valleycourier.example/nation-world/jobs")
    text = fixture_page("author_wire.txt")
    fh, ft = feats(html), feats(text)
    assert fh["author.byline_present"] == 1.0 and ft["author.byline_present"] == 1.0  # "By JOSH BOAK, AP ..."
    assert fh["author.byline_consistent"] == 1.0  # JOSH BOAK = JSON-LD "Josh Boak"
    assert math.isnan(ft["author.byline_consistent"])
    for f in (fh, ft):
        assert f[SCORE] == 0.0 and f["author.bio_marker_kinds"] == 0.0
        assert f["author.street_address"] == 0.0  # the newspaper's footer address is not in a bio region


def test_byline_inconsistent_with_declared_author():
    page = Page(html="<html><head><meta name='author' content='Maria Lopez'></head><body>"
                     "<h1>Storm hits coast</h1><p class='byline'>By John Carter</p>"
                     "<p>A strong storm hit the coast on Monday, knocking out power to thousands of homes.</p>"
                     "</body></html>")
    f = feats(page)
    assert f["author.byline_present"] == 1.0 and f["author.byline_consistent"] == 0.0


def test_declared_site_name_is_not_an_author():
    page = Page(html="<html><head><meta name='author' content='Snopes'></head><body>"
                     "<div class='byline'>By Dan Evon</div><p>Text of the story.</p></body></html>",
                url="https://www.snopes.com/fact-check/x/")
    f = feats(page)
    assert f["author.byline_present"] == 1.0 and math.isnan(f["author.byline_consistent"])


def test_story_mentions_and_footers_are_not_bio_markers():
    page = Page(html="<html><body><h1>Clinic opens</h1><p>By Jane Smith</p>"
                     "<p>Dr. Anthony Fauci said on Tuesday that the new clinic at 1600 Main Street would open in "
                     "June, and Sen. Maria Cantwell praised the plan in a statement to reporters.</p>"
                     "<p>In 2019 Apple Park hosted a similar event for 2,000 people, organisers said.</p>"
                     "<footer>City Times, 12 Harbor Street, Springfield, IL 62701. Phone: (217) 555-0100</footer>"
                     "</body></html>")
    f = feats(page)
    assert f["author.honorific_name"] == 0.0 and f["author.street_address"] == 0.0 and f["author.phone"] == 0.0
    assert f[SCORE] == 0.0 and f["author.byline_present"] == 1.0


def test_hobby_word_in_prose_is_not_a_hobby_field():
    # from a real German blog: a colon list in a sentence is not a "Hobbies:" profile field
    page = Page.from_text("Kommentar\nNach dem Spiel gab es Streit. Des Deutschen liebste Hobbys: Autos, Bier, "
                          "Nahostkonflikt. Das war schon immer so, sagt der Wirt.")
    f = feats(page)
    assert f["author.hobby_list"] == 0.0 and f[SCORE] == 0.0


def test_blogger_intro_stays_below_firing():
    page = Page.from_text("About me\nHi, my name is Sarah and I'm a food blogger who loves writing about simple "
                          "vegan recipes. I live in Vienna with my husband and our cat.")
    assert 0 < feats(page)[SCORE] < FIRE_SCORE


@pytest.mark.parametrize("page", [
    Page(html=""), Page(html="<html><head><title>t</title></head></html>"), Page(html=random.Random(1).randbytes(4000)),
    Page.from_text(""), Page.from_text(":\n::\nName:\nHobby: , ,\nMy name is\nBy"),
    Page(html="<html><body><p>我的名字是张伟，我是一个热爱写作的人。</p>"
              "<div class='author'>作者：张伟</div></body></html>"),
    Page.from_text(("x" * 50_000 + " my name is " + "a, " * 3000 + "\n") * 3),
], ids=["empty", "no_body", "binary", "empty_text", "bare_labels", "chinese", "long_lines"])
def test_weird_pages_do_not_crash(page):
    f = feats(page)
    assert f[SCORE] < FIRE_SCORE


# ----- real corpus ---------------------------------------------------------------------------

# Parsing dominates (~6 ms a page): every second real page keeps this file well under 20 s.
# On all 1,861 pages the measured numbers are the same (0 fire in HTML, 0 in text mode).
CORPUS_STRIDE = 2


@pytest.fixture(scope="module")
def corpus_features(legit_records):
    """Features of every second real page in HTML mode, and of every sixth one as a text dump."""
    html, text = [], []
    for i, rec in enumerate(legit_records[::CORPUS_STRIDE]):
        page = Page(html=rec.read_bytes(), url=rec.url, id=rec.key)
        html.append((rec.key, author.features(page)))
        if i % 3 == 0:
            text.append((rec.key, author.features(as_text(page))))
    return html, text


def test_real_pages_rarely_carry_a_generated_bio(corpus_features):
    html, text = corpus_features
    for rows in (html, text):
        fired = [k for k, f in rows if f[SCORE] >= FIRE_SCORE]
        assert len(fired) / len(rows) <= 0.01, fired[:10]  # measured on all pages: 0 of 1,861 (HTML and text)
        persona = sum(f["author.writer_phrase"] >= 2 or f["author.info_block"] or f["author.hobby_list"]
                      for _, f in rows)
        assert persona / len(rows) <= 0.01


def test_real_pages_mostly_have_consistent_bylines(corpus_features):
    html, _ = corpus_features
    present = sum(f["author.byline_present"] for _, f in html) / len(html)
    judged = [f["author.byline_consistent"] for _, f in html if not math.isnan(f["author.byline_consistent"])]
    assert present >= 0.6  # measured 0.69
    assert len(judged) >= 200 and sum(judged) / len(judged) >= 0.85  # measured 0.95
