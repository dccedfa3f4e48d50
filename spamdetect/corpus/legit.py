"""Real legitimate pages from the shared corpus, read only through the folders' pages.jsonl manifests."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from spamdetect.config import corpus_dir

# Folders with a pages.jsonl manifest of real publisher pages.
SOURCES = ("article-extraction-benchmark", "htmldate", "postlight-parser", "readability", "trafilatura")


class NoCorpus(FileNotFoundError):
    """The corpus folder gives nothing to train on: no manifest lists a page that is there, or too few."""


@dataclass(frozen=True)
class LegitRecord:
    """One manifest row: where the page is and what upstream says about it."""

    source: str  # corpus folder
    file: Path  # absolute path of the .html.gz
    url: str | None
    date: str | None
    lang: str | None
    extra: dict

    @property
    def key(self) -> str:
        """A stable id: folder plus the file path as the manifest gives it."""
        return f"{self.source}/{self.extra.get('file')}"

    def read_bytes(self) -> bytes:
        with gzip.open(self.file) as fh:
            return fh.read()


def iter_manifest(root: Path | None = None, sources: tuple[str, ...] = SOURCES,
                  include_synthetic: bool = False) -> Iterator[LegitRecord]:
    """Manifest rows of the given folders, in file order; pages shared by two folders appear once."""
    root = Path(root) if root else corpus_dir()
    seen: set[Path] = set()
    for source in sources:
        manifest = root / source / "pages.jsonl"
        if not manifest.exists():
            continue
        with manifest.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row.get("kind") == "synthetic_test" and not include_synthetic:
                    continue
                path = (root / source / row["file"]).resolve()
                if path in seen or not path.exists():
                    continue
                seen.add(path)
                yield LegitRecord(source, path, row.get("url"), row.get("date"), row.get("lang"), row)


def corpus_available(root: Path | None = None) -> bool:
    root = Path(root) if root else corpus_dir()
    return any((root / s / "pages.jsonl").exists() for s in SOURCES)


def no_corpus(root: Path) -> NoCorpus:
    """The error for a folder without usable manifests, naming what was looked for."""
    return NoCorpus(f"no corpus pages under {root}: expected folders such as {SOURCES[0]}/ with a pages.jsonl "
                    "manifest listing .html.gz pages (give --corpus DIR or set $SPAMDETECT_CORPUS)")
