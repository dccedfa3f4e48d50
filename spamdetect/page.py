"""A crawled page, parsed once, with the lazy views the signals read.

A page is either HTML (``html``: str or bytes) or text only (``text``: an extracted
text dump such as a WET record). Every view exists in both modes; a view that
text cannot provide (``meta``, ``h1``, ``links``) is empty there, and signals turn
that into missing values rather than guesses.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from selectolax.lexbor import LexborHTMLParser

from spamdetect.charsets import decode_html_noted

# Cap on what is parsed: pages of tens of MB are almost always junk or data dumps,
# and a bounded parse keeps one page from stalling a batch. Truncation is reported.
MAX_HTML_BYTES = 2_000_000
MAX_TEXT_CHARS = 500_000
# Cap on element nesting: lexbor takes quadratic time on deep trees (50k nested <div>s: ~10 s),
# and browsers flatten such trees for layout too. Real pages stay far below it.
MAX_DEPTH = 4096
_NESTING = r"<(/?)(?:div|span|section|article|table|ul|ol|li|blockquote|font|em|strong|b|i|a)\b"
_NESTING_STR = re.compile(_NESTING, re.I)
_NESTING_BYTES = re.compile(_NESTING.encode(), re.I)

_BLOCK_TAGS = (
    "p,div,li,ul,ol,h1,h2,h3,h4,h5,h6,tr,td,th,table,section,article,header,footer,"
    "nav,aside,blockquote,pre,dt,dd,dl,figcaption,figure,form,br,hr,main,address,"
    "option,label,button,time"
)
_BLOCK_TAG_SET = frozenset(_BLOCK_TAGS.split(","))
_INVISIBLE_TAGS = ["script", "style", "noscript", "template", "svg", "iframe", "object"]
_INVISIBLE_SELECTOR = ",".join(_INVISIBLE_TAGS)
_SENTINEL = "\ue000"  # private-use char marks block boundaries; never occurs in real text
_WS_CHARS = "\t\n\r\f\v\u00a0\u200b\u2028\u2029\ufeff"  # folded to a space, like the space itself
_WS = re.compile(f"[ {_WS_CHARS}]+")
_SPACE_RUN = re.compile("  +")
# Possessive quantifiers: the same tokens (backtracking into a word can never let ' or - match),
# found ~15% faster since sre keeps no backtrack points; this regex tokenises every page.
_WORD = re.compile(r"\w++(?:['’-]\w++)*+")
_SENTENCE_END = re.compile(r"[.!?…:;\"”»)]\s*$")


@dataclass(frozen=True)
class Link:
    """An anchor in the page body."""

    text: str
    href: str


@dataclass(frozen=True)
class LinkBlock:
    """A block of links presented as a list (Related, Trending, ...).

    ``label`` is the heading or class text that named the block, ``how`` says how it
    was found ("heading", "class" or "text"), ``hrefs`` is empty in text mode, ``numbered``
    says the list is a ranking (an <ol> or rank numbers).
    """

    label: str
    headlines: tuple[str, ...]
    hrefs: tuple[str, ...] = ()
    how: str = "heading"
    numbered: bool = False


def is_missing(value) -> bool:
    """Whether a row's cell says "missing": None, NaN (pandas' missing cell, JSON's NaN), ``pd.NA``, or
    ``pd.NaT`` (a datetime column's missing cell, which is a ``datetime`` that no date arithmetic takes)."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    pandas = sys.modules.get("pandas")  # pd.NA and pd.NaT can only come from a loaded pandas
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def is_blank(data: str | bytes) -> bool:
    """Nothing, or nothing but whitespace: no page to score."""
    return not data[:256].strip() and not data.strip()  # the prefix settles nearly every page cheaply


def normalize_space(s: str) -> str:
    """Collapse all whitespace (including nbsp and zero-width) to single spaces."""
    return _WS.sub(" ", s).strip()


def _fold_space(s: str) -> str:
    """``_WS.sub(" ", s)`` for long texts: a str.replace per whitespace kind and one run collapse
    scan run about 3x faster than the character-class regex over a whole page."""
    for ch in _WS_CHARS:
        if ch in s:
            s = s.replace(ch, " ")
    return _SPACE_RUN.sub(" ", s)


def normalize_many(texts: list[str]) -> list[str]:
    """``[normalize_space(t) for t in texts]`` in one pass over the joined texts."""
    parts = _fold_space(_SENTINEL.join(texts)).split(_SENTINEL)
    if len(parts) != len(texts):  # a text held the sentinel itself: go one by one
        return [normalize_space(t) for t in texts]
    return list(map(str.strip, parts))


def words(s: str) -> list[str]:
    """Word tokens of ``s``, lower-cased (unicode-aware, keeps in-word apostrophes)."""
    return _WORD.findall(s.lower())


@dataclass
class Page:
    """One crawled page. Give ``html`` or ``text``; ``url`` and ``crawl_date`` are optional."""

    html: str | bytes | None = None
    text_input: str | None = None
    url: str | None = None
    crawl_date: datetime | None = None
    id: str | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if is_missing(self.html) and is_missing(self.text_input):
            raise ValueError("a page needs html or text")
        # a pandas row's missing cell (NaN, pd.NA, NaT) means "not given", here as in every row reader
        self.html, self.text_input, self.url, self.crawl_date, self.id = (
            None if is_missing(v) else v for v in (self.html, self.text_input, self.url, self.crawl_date, self.id))
        if self.url is not None and not isinstance(self.url, str):
            raise TypeError(f"a page's url must be a string, got {type(self.url).__name__}")
        if self.crawl_date is not None and not isinstance(self.crawl_date, date):
            raise TypeError(f"a page's crawl_date must be a datetime, got {type(self.crawl_date).__name__}")
        if isinstance(self.crawl_date, date) and not isinstance(self.crawl_date, datetime):  # its midnight, as the readers take it
            self.crawl_date = datetime(self.crawl_date.year, self.crawl_date.month, self.crawl_date.day)
        if self.html is not None and len(self.html) > MAX_HTML_BYTES:
            self.notes.append(f"html truncated to {MAX_HTML_BYTES:,} of {len(self.html):,} bytes")
            self.html = self.html[:MAX_HTML_BYTES]
        if self.text_input is not None and len(self.text_input) > MAX_TEXT_CHARS:
            self.notes.append(f"text truncated to {MAX_TEXT_CHARS:,} of {len(self.text_input):,} chars")
            self.text_input = self.text_input[:MAX_TEXT_CHARS]
        if self.html is not None:
            self.html, note = _limit_nesting(self.html)
            if note:
                self.notes.append(note)

    @classmethod
    def from_text(cls, text: str, url: str | None = None, crawl_date: datetime | None = None,
                  id: str | None = None) -> "Page":
        """A text-only page (extracted text, first line taken as the title)."""
        return cls(text_input=text, url=url, crawl_date=crawl_date, id=id)

    # ----- parsing (once) -------------------------------------------------------------

    @property
    def is_html(self) -> bool:
        return self.html is not None

    @cached_property
    def tree(self) -> LexborHTMLParser | None:
        """The lexbor tree (None in text mode). Invisible elements are already removed."""
        if self.html is None:
            return None
        try:
            tree = LexborHTMLParser(self.html, encoding=isinstance(self.html, bytes))
        except UnicodeError:
            # lexbor transcodes bytes by their <meta charset>, and a lying one (utf-32 on an ASCII
            # page) makes it raise: decode as the readers do and parse the string instead.
            text, note = decode_html_noted(self.html)
            self.notes.append(note or "the parser rejected the <meta> charset; decoded as the readers do")
            tree = LexborHTMLParser(text)
        # One query finds every invisible element (strip_tags walks the tree once per tag), and
        # json-ld, which lives in <script>, is read from it before the elements are removed.
        invisible = tree.css(_INVISIBLE_SELECTOR)
        self.__dict__["json_ld"] = _read_json_ld([n for n in invisible if n.tag == "script" and _is_json_ld(n)])
        for node in invisible:  # document order: a nested match is detached along with its ancestor
            node.decompose(recursive=False)  # what strip_tags does: detach, free with the tree
        return tree

    # ----- views ---------------------------------------------------------------------

    @cached_property
    def json_ld(self) -> list[dict]:
        """Objects from <script type="application/ld+json"> (flattened @graph), [] in text mode."""
        if self.tree is None:
            return []
        return self.__dict__.get("json_ld", [])

    @cached_property
    def lines(self) -> list[str]:
        """Visible text, one entry per block element (HTML) or per non-empty line (text)."""
        if self.tree is None:
            return [s for s in (normalize_space(x) for x in self.text_input.splitlines()) if s]
        body = self.tree.body
        if body is None:
            return []
        # One walk in document order: text nodes as they are, a sentinel where a block element
        # starts. That is body.text() with a marker before each block, without the ~1,000 marker
        # insertions and removals per page (and a CSS query of 32 parts) it took to write them
        # into the tree.
        raw = _marked_text(body)
        # Whitespace runs never span a sentinel, so folding the whole text at once and then
        # splitting is normalize_space per block, at a fraction of the cost.
        return [s for s in map(str.strip, _fold_space(raw).split(_SENTINEL)) if s]

    @cached_property
    def line_words(self) -> list[list[str]]:
        """``words(line)`` for each of ``lines``, tokenised once for all the views that count words."""
        # One lower() for the whole text: lines hold no newline and lower-casing makes none, and a
        # word never spans a newline, so this is words() line by line.
        return list(map(_WORD.findall, "\n".join(self.lines).lower().split("\n"))) if self.lines else []

    @cached_property
    def text(self) -> str:
        """All visible text, one block per line."""
        return "\n".join(self.lines)

    @cached_property
    def title(self) -> str:
        """<title> (HTML) or the first line (text mode); '' when absent."""
        if self.tree is None:
            return self.lines[0] if self.lines else ""
        node = self.tree.css_first("title")
        return normalize_space(node.text()) if node is not None else ""

    @cached_property
    def h1(self) -> str:
        """Text of the first <h1>; '' when absent and in text mode."""
        if self.tree is None:
            return ""
        node = self.tree.css_first("h1")
        return normalize_space(node.text()) if node is not None else ""

    @cached_property
    def meta(self) -> dict[str, str]:
        """<meta> content by lower-cased name/property/itemprop/http-equiv (first wins)."""
        out: dict[str, str] = {}
        if self.tree is None:
            return out
        for node in self.tree.css("meta"):
            attrs = node.attributes
            key = attrs.get("name") or attrs.get("property") or attrs.get("itemprop") or attrs.get("http-equiv")
            content = attrs.get("content") or attrs.get("value")  # some minified pages use value=
            if key and content and key.lower() not in out:
                out[key.lower().strip()] = normalize_space(content)
        return out

    @cached_property
    def lang(self) -> str | None:
        """Two-letter language from <html lang> or meta, when declared."""
        if self.tree is None:
            return None
        html = self.tree.css_first("html")
        value = (html.attributes.get("lang") if html is not None else None) or self.meta.get(
            "content-language") or self.meta.get("og:locale")
        return value[:2].lower() if value else None

    @cached_property
    def links(self) -> list[Link]:
        """Anchors with an href in the body, in document order ([] in text mode)."""
        if self.tree is None or self.tree.body is None:
            return []
        nodes = self.tree.body.css("a[href]")
        texts = normalize_many([node.text() for node in nodes])
        return [Link(text, _href(node)) for text, node in zip(texts, nodes)]

    @cached_property
    def hrefs(self) -> list[str]:
        """The ``href`` of each of ``links``, without reading the anchors' text ([] in text mode)."""
        if "links" in self.__dict__:
            return [link.href for link in self.links]
        if self.tree is None or self.tree.body is None:
            return []
        return [_href(node) for node in self.tree.body.css("a[href]")]

    @cached_property
    def _prose_lines(self) -> list[tuple[str, list[str]]]:
        """(line, its words) for the lines that read as story prose."""
        # line_words is tokenised anyway (the text channel reads it): reuse it rather than tokenise
        # the long lines a second time
        return [(line, toks) for line, toks in zip(self.lines, self.line_words) if _is_prose(line, len(toks))]

    @cached_property
    def paragraphs(self) -> list[str]:
        """Lines that read as story prose: long enough and sentence-like, in both modes."""
        return [ln for ln, _ in self._prose_lines]

    @cached_property
    def main_text(self) -> str:
        """The story body: the prose paragraphs joined by newlines."""
        return "\n".join(self.paragraphs)

    @cached_property
    def main_words(self) -> list[str]:
        """Word tokens of the story body (``words(main_text)``), shared by the signal families."""
        # main_text joins the prose lines with newlines, which no word spans: its words are theirs
        return [w for _, toks in self._prose_lines for w in toks]

    def story_words(self, max_chars: int) -> list[str]:
        """``words(main_text[:max_chars])``: the shared ``main_words`` (do not modify) unless the
        story is longer than ``max_chars``."""
        if len(self.main_text) <= max_chars:
            return self.main_words
        # The lines wholly inside the cut keep their tokens (no word spans the joining newline);
        # only the line the cut falls in is tokenised again.
        out: list[str] = []
        start = 0
        for line, toks in self._prose_lines:
            end = start + len(line)
            if end > max_chars:
                out += words(line[:max_chars - start])
                break
            out += toks
            start = end + 1
            if start > max_chars:
                break
        return out

    @cached_property
    def main_word_counts(self) -> Counter:
        """How often each word of the story body occurs."""
        return Counter(self.main_words)

    @cached_property
    def link_blocks(self) -> list[LinkBlock]:
        """Link lists such as Related / Trending / Don't Miss (see ``spamdetect.link_blocks``)."""
        from spamdetect.link_blocks import find_link_blocks

        return find_link_blocks(self)

    @cached_property
    def domain(self) -> str | None:
        """Registrable domain of the URL (e.g. 'bbc.co.uk'), None without a URL."""
        from spamdetect.domains import registrable_domain

        return registrable_domain(self.url) if self.url else None

    def to_text(self) -> str:
        """The page as a text dump (title line, then visible blocks), like a WET record."""
        if self.tree is None:
            return self.text_input or ""
        head = [self.title] if self.title and (not self.lines or self.lines[0] != self.title) else []
        return "\n".join(head + self.lines)


def _href(anchor) -> str:
    return (anchor.attrs.get("href") or "").strip()


def _marked_text(body) -> str:
    """The text of ``body`` in document order, with ``_SENTINEL`` before every block element."""
    blocks = _BLOCK_TAG_SET
    parts: list[str] = []
    add = parts.append
    # text_content is None exactly for the non-text nodes (and for empty text, which adds nothing):
    # one attribute read per node instead of two, and a list instead of a generator.
    for node in body.traverse(include_text=True):
        text = node.text_content
        if text is not None:
            add(text)
        elif node.tag in blocks:
            add(_SENTINEL)
    return "".join(parts)


def _limit_nesting(html: str | bytes) -> tuple[str | bytes, str | None]:
    """Cut markup where it gets nested deeper than ``MAX_DEPTH`` elements (see ``MAX_DEPTH``),
    with a note saying where, else ``(html, None)``."""
    lt, close = ("<", "</") if isinstance(html, str) else (b"<", b"</")
    # Depth can pass MAX_DEPTH only with more opening tags than that, and a "<" not followed by
    # "/" bounds those: two count()s settle nearly every page.
    n_lt = html.count(lt)
    if n_lt <= MAX_DEPTH or n_lt - html.count(close) <= MAX_DEPTH:
        return html, None
    pattern = _NESTING_STR if isinstance(html, str) else _NESTING_BYTES
    # The exact count of opening tags: findall + count is ~3x cheaper than walking Match objects.
    if pattern.findall(html).count(html[:0]) <= MAX_DEPTH:  # group(1) is empty for an opening tag
        return html, None
    depth = 0
    for m in pattern.finditer(html):
        if m.group(1):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > MAX_DEPTH:
                unit = "character" if isinstance(html, str) else "byte"
                return html[:m.start()], (f"markup nested more than {MAX_DEPTH:,} elements deep: "
                                          f"parsed up to {unit} {m.start():,} of {len(html):,}")
    return html, None


def _is_prose(line: str, n_words: int) -> bool:
    """Whether a line of ``n_words`` words reads as story prose."""
    return n_words >= 20 or (n_words >= 8 and bool(_SENTENCE_END.search(line)))


def _is_json_ld(script) -> bool:
    """``script[type="application/ld+json"]``: lexbor matches that value ASCII case-insensitively."""
    kind = script.attributes.get("type")
    return kind is not None and kind.lower() == "application/ld+json"


def _read_json_ld(scripts: list) -> list[dict]:
    """Objects of the json-ld ``scripts``, @graph lists flattened; unparseable ones are skipped."""
    out: list[dict] = []
    for node in scripts:
        try:
            data = json.loads(node.text() or "null")
        except (ValueError, RecursionError):
            continue
        stack = data if isinstance(data, list) else [data]
        for item in stack:
            if isinstance(item, dict):
                graph = item.get("@graph")
                if isinstance(graph, list):
                    out.extend(x for x in graph if isinstance(x, dict))
                else:
                    out.append(item)
    return out
