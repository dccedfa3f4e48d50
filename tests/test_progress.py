"""Progress goes to a terminal as a live bar and to a log as plain lines, a line a minute."""

from __future__ import annotations

import io
import subprocess
import sys

from spamdetect import progress
from spamdetect.config import PROJECT_DIR


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(stream, n: int = 5, **kwargs) -> str:
    bar = progress.progress_bar(stream=stream, total=n, desc="scoring", unit="page", **kwargs)
    for _ in range(n):
        bar.update(1)
    bar.close()
    return stream.getvalue()


def test_a_log_gets_one_plain_line_per_redraw_and_a_terminal_the_live_bar(monkeypatch):
    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0.0)  # every update is due: one line each
    log = _run(io.StringIO())
    lines = log.splitlines()
    assert "\r" not in log and log.endswith("\n")
    assert lines[0].startswith("scoring:   0%") and lines[-1].startswith("scoring: 100%")
    assert "5/5" in lines[-1] and "page/s" in lines[-1]
    assert len(lines) == len(set(lines)) >= 3  # progress in between, and no line twice
    assert not any(glyph in log for glyph in "█▏▎▍▌▋▊▉#")  # no bar in a log
    # a caller's own format loses its bar in a log, and keeps the rest
    custom = _run(io.StringIO(), bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}")
    assert custom.splitlines()[-1] == "scoring 100% 5/5"

    live = _run(Terminal())
    assert "\r" in live and "scoring: 100%|##########| 5/5" in live  # redrawn in place, with its bar


def test_a_log_line_comes_at_most_once_a_minute(monkeypatch):
    log = _run(io.StringIO(), n=200)  # far less than a minute: the opening line and the closing one
    assert [line.split("%")[0] for line in log.splitlines()] == ["scoring:   0", "scoring: 100"]


def test_score_writes_its_progress_as_lines_when_stderr_is_a_log():
    proc = subprocess.run([sys.executable, "-m", "spamdetect", "score", str(PROJECT_DIR / "data" / "sample"),
                           "-o", "-", "--workers", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("scoring   0%")
    assert lines[-2].startswith("scoring 100%") and "pages/s" in lines[-2]
    assert lines[-1].startswith("scored ")
