"""spamdetect: score crawled web pages for trustworthiness and catch content farms."""

__version__ = "0.1.0"
