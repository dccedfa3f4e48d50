"""Domain parsing with tldextract's bundled public suffix list (never fetched at run time)."""

from __future__ import annotations

from functools import lru_cache

import tldextract

# suffix_list_urls=() keeps tldextract offline: it uses the snapshot shipped in the wheel.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
# With the list's private section, blogspot.com, github.io, ... are suffixes: each blog is a site.
_EXTRACT_PRIVATE = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@lru_cache(maxsize=65536)
def split_host(url_or_host: str, private: bool = False) -> tuple[str, str, str]:
    """(subdomain, domain, suffix) of a URL or host name; empty parts are ''.

    ``private=True`` also treats hosting platforms (the suffix list's private section) as suffixes.
    """
    ext = (_EXTRACT_PRIVATE if private else _EXTRACT)(url_or_host)
    return ext.subdomain, ext.domain, ext.suffix


def registrable_domain(url_or_host: str) -> str | None:
    """'news.bbc.co.uk/x' -> 'bbc.co.uk'; None when there is no registrable domain (IPs, junk)."""
    _, domain, suffix = split_host(url_or_host)
    if not domain:
        return None
    return f"{domain}.{suffix}" if suffix else domain
