"""Farm operations, hard negatives and generators on hand-written story pages (no corpus build)."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from spamdetect.corpus import fakes
from spamdetect.corpus.hard_negatives import HARD_NEGATIVES
from spamdetect.corpus.operations import OPERATIONS, HeadlinePool, visible_ok
from spamdetect.corpus.story import extract_story
from spamdetect.corpus.templates import (FAMILIES, IN_PLACE_FAMILIES, TEMPLATE_FAMILIES, Donor, make_farm,
                                         make_legit_aug)
from spamdetect.page import Page, normalize_space

FIXTURES = Path(__file__).parent / "fixtures"
POOL = HeadlinePool.from_items([(f"g{i}", "en", t) for i, t in enumerate([
    "Stock markets fall as investors weigh new tariffs", "Ten recipes for a quick summer dinner",
    "Scientists discover a new species of frog in Peru", "How to save money on your electricity bill",
    "Celebrity couple announces surprise wedding in Rome", "Local team wins the regional championship final",
    "New smartphone leaks reveal a bigger battery", "Why sleep matters more than you think",
    "Airline cancels hundreds of flights after storm", "The best hiking trails in the Alps this year",
])] + [(f"d{i}", "de", t) for i, t in enumerate([
    "Bundesliga: Spitzenspiel endet unentschieden", "So sparen Sie beim Heizen im Winter",
    "Neue Studie zu gesunder Ernährung vorgestellt", "Bahnstreik sorgt für Chaos im Berufsverkehr",
    "Zehn Ausflugsziele für das lange Wochenende", "Forscher entdecken unbekannte Käferart",
])])


def _load(name: str):
    html = (FIXTURES / name).read_text(encoding="utf-8")
    lang = "de" if name.endswith("_de.html") else "en"
    story = extract_story(Page(html=html), key=f"fixture/{name}", source="fixture", record_lang=lang)
    return story, html


@pytest.fixture(scope="module")
def en_story():
    return _load("corpus_story_en.html")


@pytest.fixture(scope="module")
def de_story():
    return _load("corpus_story_de.html")


def _rendered(html: str) -> str:
    return normalize_space(Page(html=html).to_text())


def test_fixture_story_is_extracted_with_year_and_paragraphs(en_story, de_story):
    story, _ = en_story
    assert len(story.paragraphs) == 6 and story.year == 2019
    assert story.title.startswith("City council approves")
    assert de_story[0].year == 2018 and de_story[0].site_name == "Saale-Kurier"


@pytest.mark.parametrize("op", sorted(OPERATIONS))
@pytest.mark.parametrize("family", ["wp_magazine", "in_place"])
def test_each_operation_leaves_its_evidence_in_the_rendered_page(en_story, op, family, monkeypatch):
    import spamdetect.corpus.templates as T

    story, html = en_story
    monkeypatch.setattr(T, "choose_operations", lambda fam, st, rng: [op])
    for seed in range(4):
        doc = make_farm(story, family, random.Random(seed), POOL, html)
        assert doc.op_names == [op]
        text = _rendered(doc.html)
        for ev in doc.operations[0]["evidence"]:
            assert visible_ok(ev, text), (op, ev)


def test_add_faq_puts_a_faq_heading_in_the_output(en_story, monkeypatch):
    import spamdetect.corpus.templates as T

    story, html = en_story
    monkeypatch.setattr(T, "choose_operations", lambda fam, st, rng: ["add_faq"])
    doc = make_farm(story, "in_place", random.Random(1), POOL, html)
    heading = doc.operations[0]["heading"]
    assert heading in Page(html=doc.html).lines


def test_restamp_date_stamps_a_year_later_than_the_story(en_story, monkeypatch):
    import spamdetect.corpus.templates as T

    story, html = en_story
    monkeypatch.setattr(T, "choose_operations", lambda fam, st, rng: ["restamp_date"])
    for seed in range(10):
        rec = make_farm(story, "news_portal", random.Random(seed), POOL, html).operations[0]
        assert int(rec["stamp"][:4]) > 2019


def test_spin_text_swaps_lexicon_words_but_keeps_the_story_recognisable():
    text = "Police said the big company will help people in the city."
    spun, swaps = fakes.spin_text(text, random.Random(3), "en", rate=1.0)
    assert spun != text and swaps
    assert "Police said" not in spun
    assert "company" not in spun.lower()


def test_generators_are_deterministic_for_a_seed():
    a = [fakes.person_name(random.Random(5), "en", 1.0), fakes.farm_site(random.Random(5)),
         fakes.fake_rating(random.Random(5)), fakes.template_leak(random.Random(5))]
    b = [fakes.person_name(random.Random(5), "en", 1.0), fakes.farm_site(random.Random(5)),
         fakes.fake_rating(random.Random(5)), fakes.template_leak(random.Random(5))]
    assert a == b


def test_bio_reads_like_a_farm_profile():
    rng = random.Random(2)
    name = fakes.person_name(rng, "en", honorific_prob=1.0)
    assert re.match(r"^(Dr\.|Prof\.|Mr\.|Mrs\.|Ms\.|Sir|Rev\.|Eng\.)", name)
    bios = {fakes.bio_text(random.Random(i), "en", "X", "news") for i in range(30)}
    assert any("loves writing" in b for b in bios)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_yields_a_parseable_farm_with_the_story_paragraphs(en_story, de_story, family):
    story, html = en_story
    for seed in range(3):
        donor = Donor(*de_story) if seed or family == "theme_clone" else None
        doc = make_farm(story, family, random.Random(seed), POOL, html, donor=donor)
        assert doc.operations, "a farm carries at least one sign"
        page = Page(html=doc.html)
        got = set(page.paragraphs)
        kept = [p for p in story.paragraphs if p in got or _jaccard(p, got) >= 0.5]
        assert len(kept) >= 3, (family, seed)


def _jaccard(p: str, others: set[str]) -> float:
    a = set(p.lower().split())
    return max((len(a & set(o.lower().split())) / len(a | set(o.lower().split())) for o in others), default=0)


def test_in_place_farms_have_one_or_two_operations_and_keep_the_page(en_story):
    story, html = en_story
    original = set(Page(html=html).lines)
    for seed in range(20):
        doc = make_farm(story, "in_place", random.Random(seed), POOL, html)
        assert 1 <= len(doc.operations) <= 2
        assert len(original & set(Page(html=doc.html).lines)) >= 0.6 * len(original)


def test_german_stories_get_mostly_german_boilerplate(de_story):
    story, html = de_story
    langs = Counter(make_farm(story, "wp_magazine", random.Random(s), POOL, html).extra["ui_lang"] for s in range(40))
    assert langs["de"] > 25 and langs["en"] > 0  # some farms keep an English template on German text


def test_class_names_and_skeletons_vary_across_farms(en_story):
    story, html = en_story
    classes: Counter = Counter()
    n = 40
    for s in range(n):
        doc = make_farm(story, TEMPLATE_FAMILIES[s % len(TEMPLATE_FAMILIES)], random.Random(s), POOL, html)
        # icon-font classes (fa fa-facebook) are on most real pages too: only layout/role classes count
        classes.update({c for c in re.findall(r'class="([^"]+)"', doc.html) if not c.startswith("fa ")})
    most = classes.most_common(1)[0][1] if classes else 0
    assert most < 0.5 * n, classes.most_common(3)


@pytest.mark.parametrize("seed", range(6))
def test_hard_negatives_are_visible_and_farm_free(en_story, seed):
    story, html = en_story
    doc = make_legit_aug(story, random.Random(seed), html)
    assert doc.operations and all(o["op"] in HARD_NEGATIVES for o in doc.operations)
    text = _rendered(doc.html)
    for o in doc.operations:
        for ev in o["evidence"]:
            assert visible_ok(ev, text)
    assert "loves writing" not in text and "{{" not in text


def test_text_only_rendering_keeps_farm_signs(en_story, monkeypatch):
    import spamdetect.corpus.templates as T

    story, html = en_story
    monkeypatch.setattr(T, "choose_operations", lambda fam, st, rng: ["add_fake_rating", "add_link_lists"])
    doc = make_farm(story, "minimal_ads", random.Random(0), POOL, html)
    text_page = Page.from_text(Page(html=doc.html).to_text())
    assert len(text_page.paragraphs) >= 3
    assert doc.operations[0]["evidence"][0] in text_page.text


def test_blocklist_domains_are_read_without_regex_rules(tmp_path):
    d = tmp_path / "domain-lists" / "content-farm-terminator" / "blocklist"
    d.mkdir(parents=True)
    (d / "content-farms.txt").write_text("# comment\n/^https?://x/\nfarm-example.com  #note\nbad.example.org\n")
    assert fakes.load_blocklist_domains(str(tmp_path)) == ("bad.example.org", "farm-example.com")


def test_in_place_family_list_matches_constructors():
    assert set(IN_PLACE_FAMILIES) <= set(FAMILIES) and len(TEMPLATE_FAMILIES) >= 5


def test_theme_clone_wears_the_donor_theme_rebranded(en_story, de_story):
    story, html = en_story
    doc = make_farm(story, "theme_clone", random.Random(0), POOL, html, donor=Donor(*de_story))
    page = Page(html=doc.html)
    assert page.h1 == story.title or doc.operations[0]["op"] == "spin_title"
    assert "Impressum" in page.text  # the donor's footer
    assert "Saale-Kurier" not in page.text  # re-branded to the farm
    donor_pars = set(de_story[0].paragraphs)
    assert not donor_pars & set(page.paragraphs)  # the donor's own story is gone


def test_theme_clone_on_a_donor_whose_paragraph_is_a_span_in_a_div(en_story, de_story):
    """A donor paragraph that matches twice (its <div> and the <span> inside) must not become the
    story's container: theme_clone deletes the matches, and a real page's farm variant failed
    with a RecursionError on the deleted container."""
    from dataclasses import replace

    from spamdetect.corpus.story import parse_soup
    from spamdetect.corpus.templates import find_story_elements

    pars = ["Der Gemeinderat hat am Dienstag den neuen Haushalt für das kommende Jahr beschlossen.",
            "Die Schule bekommt ein neues Dach, die Kosten liegen bei knapp einer Million Euro."]
    html = (f"<html><body><header>Saale-Kurier</header><div id='story'><div><span>{pars[0]}</span></div>"
            f"<ul><li>{pars[1]}</li></ul></div><footer>Impressum</footer></body></html>")
    donor_story = replace(de_story[0], key="fixture/span-in-div", paragraphs=pars, lines=[(p, True) for p in pars])
    container, hits = find_story_elements(parse_soup(html), donor_story)
    assert [h.name for h in hits] == ["div", "li"]  # the outer match of the doubled paragraph
    assert container not in hits and not any(h in container.parents for h in hits)

    story, original = en_story
    doc = make_farm(story, "theme_clone", random.Random(0), POOL, original, donor=Donor(donor_story, html))
    text = _rendered(doc.html)
    assert not any(p in text for p in pars)  # the donor's story is gone
    assert sum(p in text for p in story.paragraphs) >= 3  # ours is in
