"""Gopher/C4 text statistics: values match hand computation on small written texts."""

from __future__ import annotations

import math
import statistics

import pytest

from spamdetect.page import Page
from spamdetect.signals import text_quality as tq
from spamdetect.signals.text_quality import NgramStats

# 7 lines, 24 whitespace words, no prose line (each line has fewer than 8 words).
LINES_TEXT = "\n".join([
    "Title Line",                # 10 chars, 2 words
    "The cat sat on the mat.",   # 23 chars, 6 words, terminal punctuation
    "Buy now...",                # 10 chars, 2 words, ellipsis
    "• item one",                # 10 chars, 3 words, bullet
    "• item two",                # 10 chars, 3 words, bullet
    "The cat sat on the mat.",   # duplicate of line 2
    "#tag #news",                # 10 chars, 2 words, two hashes
])

# One prose paragraph (13 words, ends with "."), four times: 52 body tokens, 148 token chars.
PARA = "the cat sat on the mat and the dog sat on the log."
PROSE_TEXT = "\n".join(["A title"] + [PARA] * 4)


@pytest.fixture(scope="module")
def lines_out():
    return tq.features(Page.from_text(LINES_TEXT))


@pytest.fixture(scope="module")
def prose_out():
    return tq.features(Page.from_text(PROSE_TEXT))


def test_features_return_exactly_the_declared_names_in_order(lines_out):
    assert list(lines_out) == list(tq.FEATURES)
    assert all(name.startswith("text_quality.") for name in tq.FEATURES)


def test_text_mode_flag():
    assert tq.features(Page.from_text("hello world"))["text_quality.is_text_mode"] == 1.0
    assert tq.features(Page(html="<p>hello world</p>"))["text_quality.is_text_mode"] == 0.0


def test_line_statistics_match_hand_computation(lines_out):
    out = lines_out
    assert out["text_quality.line_count"] == 7
    assert out["text_quality.word_count"] == 24
    assert out["text_quality.hash_per_word"] == pytest.approx(2 / 24)
    assert out["text_quality.ellipsis_per_word"] == pytest.approx(1 / 24)
    assert out["text_quality.ellipsis_line_share"] == pytest.approx(1 / 7)
    assert out["text_quality.bullet_line_share"] == pytest.approx(2 / 7)
    assert out["text_quality.terminal_punct_line_share"] == pytest.approx(2 / 7)  # "Buy now..." does not count
    assert out["text_quality.short_line_share"] == pytest.approx(5 / 7)
    assert out["text_quality.dup_line_frac"] == pytest.approx(1 / 7)
    assert out["text_quality.dup_line_char_frac"] == pytest.approx(23 / 96)


def test_page_without_prose_has_missing_body_statistics(lines_out):
    assert lines_out["text_quality.main_word_count"] == 0
    assert lines_out["text_quality.main_text_ratio"] == 0
    for name in ("mean_word_len", "stopword_ratio", "dup_para_frac", "top_2gram_char_frac", "dup_5gram_char_frac"):
        assert math.isnan(lines_out[f"text_quality.{name}"]), name


def test_body_statistics_match_hand_computation(prose_out):
    out = prose_out
    assert out["text_quality.main_word_count"] == 52
    assert out["text_quality.mean_word_len"] == pytest.approx(148 / 52)
    assert out["text_quality.alpha_word_share"] == 1.0
    # English list: "the" x4, "on" x2, "and" x1 per paragraph = 7 of 13
    assert out["text_quality.stopword_ratio"] == pytest.approx(7 / 13)
    assert out["text_quality.dup_para_frac"] == pytest.approx(3 / 4)
    assert out["text_quality.main_text_ratio"] == pytest.approx((4 * len(PARA) + 3) / len(PROSE_TEXT))


def test_top_ngram_fractions_match_hand_computation(prose_out):
    # "sat on" and "on the" occur 8 times (5 chars): 40 of 148 chars
    assert prose_out["text_quality.top_2gram_char_frac"] == pytest.approx(40 / 148)
    # "sat on the" occurs 8 times (8 chars)
    assert prose_out["text_quality.top_3gram_char_frac"] == pytest.approx(64 / 148)
    # every in-paragraph 4-gram occurs 4 times; the tie goes to the longest ("the mat and the", 12 chars)
    assert prose_out["text_quality.top_4gram_char_frac"] == pytest.approx(48 / 148)
    # the whole body repeats, so every token sits in a duplicated 5- and 10-gram
    assert prose_out["text_quality.dup_5gram_char_frac"] == pytest.approx(1.0)
    assert prose_out["text_quality.dup_10gram_char_frac"] == pytest.approx(1.0)


def test_duplicate_ngram_chars_count_each_token_once():
    tokens = "a b c d e a b c d e x".split()  # "a b c d e" twice: 10 of 11 chars covered
    stats = NgramStats(tokens)
    assert stats.dup_char_frac(5) == pytest.approx(10 / 11)
    assert stats.dup_char_frac(10) == 0.0
    assert stats.top_char_frac(2) == pytest.approx(2 * 2 / 11)


def test_ngram_fractions_are_zero_without_repeats():
    stats = NgramStats([f"w{i}" for i in range(60)])
    assert stats.top_char_frac(3) == 0.0
    assert stats.dup_char_frac(5) == 0.0


def test_short_body_leaves_ngram_statistics_missing():
    text = "Title\n" + "one two three four five six seven eight nine ten eleven twelve."
    out = tq.features(Page.from_text(text))
    assert out["text_quality.main_word_count"] == 12
    assert math.isnan(out["text_quality.top_2gram_char_frac"])


def test_c4_line_counters():
    text = "\n".join([
        "Please enable JavaScript to view this page.",
        "We use cookies to improve your experience.",
        "Cookie settings",
        "function() { return 1; }",
        "An ordinary line of text.",
    ])
    out = tq.features(Page.from_text(text))
    assert out["text_quality.javascript_lines"] == 1
    assert out["text_quality.cookie_lines"] == 2
    assert out["text_quality.curly_bracket_lines"] == 1


def test_alpha_share_counts_number_tokens():
    text = "Title\nIn 2024 the 12 members met 3 times and agreed on a 10-12 split of the costs."
    out = tq.features(Page.from_text(text))
    # 17 tokens, of which 2024, 12, 3 and 10-12 have no letter
    assert out["text_quality.main_word_count"] == 17
    assert out["text_quality.alpha_word_share"] == pytest.approx(13 / 17)


def test_german_stopword_list_is_used_for_german_text():
    text = "Titel\nDer Rat hat am Montag mit den Stimmen der Mehrheit die neue Brücke über den Fluss beschlossen."
    out = tq.features(Page.from_text(text))
    # der, hat, am, mit, den, der, die, über, den = 9 of 17 German stop words
    assert out["text_quality.stopword_ratio"] == pytest.approx(9 / 17)


def test_html_and_text_mode_agree_on_the_same_text():
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in PROSE_TEXT.split("\n")) + "</body></html>"
    from_html = tq.features(Page(html=html))
    from_text = tq.features(Page.from_text(PROSE_TEXT))
    for name in tq.FEATURES:
        if name != "text_quality.is_text_mode":
            assert from_html[name] == pytest.approx(from_text[name], nan_ok=True), name


@pytest.mark.parametrize("page", [
    Page.from_text(""),
    Page(html="<html></html>"),
    Page(html=b"\x00\xff\xfe binary \x89PNG junk \x00" * 50),
    Page.from_text(("word " * 30 + ".\n") * 20000),
    Page.from_text("東京で新しい橋の建設が始まりました。市は来年から工事を始めると発表しました。\n" * 3),
])
def test_weird_pages_do_not_crash(page):
    out = tq.features(page)
    assert list(out) == list(tq.FEATURES)
    for name in ("dup_line_frac", "short_line_share", "alpha_word_share", "dup_5gram_char_frac"):
        v = out[f"text_quality.{name}"]
        assert math.isnan(v) or 0.0 <= v <= 1.0


@pytest.fixture(scope="module")
def real_features(legit_records):
    return [(rec.lang, tq.features(Page(html=rec.read_bytes(), url=rec.url))) for rec in legit_records[::6]]


def test_real_pages_have_plausible_statistics(real_features):
    feats = [f for _, f in real_features]
    fractions = [n for n in tq.FEATURES if n.endswith(("_share", "_frac", "_ratio"))]
    for f in feats:
        for name in fractions:
            assert math.isnan(f[name]) or 0.0 <= f[name] <= 1.0 + 1e-9, name
    en_de = [f for lang, f in real_features if lang in ("en", "de") and f["text_quality.main_word_count"] >= 100]
    assert statistics.median(f["text_quality.stopword_ratio"] for f in en_de) > 0.25
    assert statistics.median(f["text_quality.mean_word_len"] for f in en_de) == pytest.approx(5.3, abs=1.0)
    assert statistics.median(f["text_quality.dup_10gram_char_frac"] for f in en_de) < 0.05
