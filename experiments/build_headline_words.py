"""Build spamdetect/data/headline_common_words_en.txt: ~5,000 common English words.

No offline word-frequency package is available here (wordfreq, nltk data and spaCy lookups are
not installed), so the list is counted from the story text (``Page.main_text``) of the real
English pages in the shared corpus. To keep it honest:
- words are ranked by document frequency (pages they occur in), not by raw count, and a word must
  occur on pages of at least MIN_DOMAINS different sites, so one site's names cannot get in;
- the postlight-parser folder is held out so tests can measure the rare-word share on titles that
  did not shape the list.
Run: PYTHONPATH=. .venv/bin/python experiments/build_headline_words.py
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from spamdetect.corpus.legit import iter_manifest
from spamdetect.page import Page, words

OUT = Path(__file__).resolve().parents[1] / "spamdetect" / "data" / "headline_common_words_en.txt"
N_WORDS = 5000
MIN_DOMAINS = 4
HELD_OUT = ("postlight-parser",)
_ALPHA = re.compile(r"^[a-z][a-z'’-]*$")
_EN_FUNCTION = {"the", "and", "of", "to", "in", "is", "that", "for", "it", "with", "was", "on", "as", "are", "be"}


def main() -> None:
    df: Counter[str] = Counter()
    domains: dict[str, set[str]] = defaultdict(set)
    n_pages = 0
    for rec in iter_manifest():
        if rec.source in HELD_OUT or rec.lang not in ("en", None):
            continue
        page = Page(html=rec.read_bytes(), url=rec.url)
        toks = words(page.main_text)
        if len(toks) < 50 or sum(t in _EN_FUNCTION for t in toks) / len(toks) < 0.12:
            continue  # not English prose
        n_pages += 1
        dom = page.domain or rec.key
        for w in set(toks):
            if _ALPHA.match(w):
                df[w] += 1
                domains[w].add(dom)
    ranked = [w for w, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0])) if len(domains[w]) >= MIN_DOMAINS]
    header = (
        f"# {N_WORDS} common English words, ranked by document frequency over the story text of {n_pages}\n"
        "# real English corpus pages (postlight-parser held out; each word seen on >= "
        f"{MIN_DOMAINS} sites).\n# Built by experiments/build_headline_words.py; one lower-case word per line.\n"
    )
    OUT.write_text(header + "\n".join(ranked[:N_WORDS]) + "\n", encoding="utf-8")
    print(n_pages, "pages;", len(ranked), "candidate words; wrote", min(N_WORDS, len(ranked)), "to", OUT)


if __name__ == "__main__":
    main()
