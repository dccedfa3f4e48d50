"""Progress bars on stderr: live on a terminal, a plain line a minute in a log.

A crawl-scale run usually writes its stderr to a log file (nohup, a batch scheduler, a container).
There, tqdm's redraws (a carriage return and the new state, each second) pile up into one line
that grows by megabytes over a long run and that ``tail`` and ``grep`` cannot read. So when stderr
is not a terminal, each redraw becomes its own newline-ended line, without the bar glyphs, at most
once every ``LOG_EVERY_SECONDS``. A notebook keeps tqdm's widget.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm.autonotebook import tqdm as auto_tqdm

LOG_EVERY_SECONDS = 60.0  # a line a minute: readable over hours, and a stalled run shows within one
TERMINAL_EVERY_SECONDS = 1.0
_BAR = "|{bar}|"
# tqdm's own format for a known total, its bar left out (with no total, tqdm draws no bar anyway)
_LOG_FORMAT = "{l_bar} {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


def progress_bar(*, disable: bool = False, stream: TextIO | None = None, bar_format: str | None = None,
                 **kwargs) -> auto_tqdm:
    """A tqdm bar on ``stream`` (stderr), redrawn each second on a terminal, logged a line a
    minute elsewhere. ``kwargs`` go to tqdm (``total``, ``desc``, ``unit``, ...)."""
    stream = sys.stderr if stream is None else stream
    if disable or auto_tqdm.__module__ == "tqdm.notebook" or _is_terminal(stream):
        return auto_tqdm(file=stream, disable=disable, mininterval=TERMINAL_EVERY_SECONDS, dynamic_ncols=True,
                         bar_format=bar_format, **kwargs)
    if bar_format:
        bar_format = bar_format.replace(_BAR, "")
    elif kwargs.get("total"):
        bar_format = _LOG_FORMAT
    # maxinterval too: tqdm's monitor thread would otherwise force a redraw every 10 s
    return auto_tqdm(file=LogLines(stream), mininterval=LOG_EVERY_SECONDS, maxinterval=LOG_EVERY_SECONDS,
                     bar_format=bar_format, **kwargs)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class LogLines:
    """A file for tqdm that turns its redraws (``"\\r" + state + padding``) into lines."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = ""

    @property
    def encoding(self) -> str | None:
        return getattr(self.stream, "encoding", None)

    def write(self, s: str) -> int:
        for part in s.split("\r"):
            line = part.strip()
            if line and line != self.last:  # the closing redraw often repeats the last line
                self.stream.write(line + "\n")
                self.last = line
        return len(s)

    def flush(self) -> None:
        self.stream.flush()
