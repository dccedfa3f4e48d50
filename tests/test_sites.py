"""Site verdicts: aggregation on handmade score rows, the label rule, the CLI on real scores, and the
HTML report rendered in headless Chromium."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spamdetect.config import PROJECT_DIR, corpus_dir, shipped_model_path
from spamdetect.score_files import iter_score_rows
from spamdetect.site_report import render_report
from spamdetect.sites import (SiteAggregator, aggregate_files, blocklist_domains, reason_kind,
                              site_of, site_verdicts)
from spamdetect.writers import open_writer

SAMPLE = PROJECT_DIR / "data" / "sample"
WARCS = sorted((corpus_dir() / "commoncrawl-sample").glob("*.warc.gz"))


def row(url: str | None, trust: float | None, *, farm: bool | None = None, reasons=(), error=None, id="x") -> dict:
    """A score row as ``spamdetect score`` writes it."""
    if error is not None:
        return {"id": id, "url": url, "trust": None, "label": None, "reasons": [], "error": error}
    farm = trust < 0.5 if farm is None else farm
    return {"id": id, "url": url, "trust": trust, "label": "farm" if farm else "trustworthy",
            "reasons": list(reasons), "error": None}


def site(result, domain: str) -> dict:
    rows = result.sites[result.sites["domain"] == domain].to_dict("records")
    assert len(rows) == 1, f"{domain} not in {result.sites['domain'].tolist()}"
    return rows[0]


# ----- sites and reason kinds ----------------------------------------------------------------

def test_site_is_the_registrable_domain_and_private_suffixes_split_sites():
    assert site_of("https://news.bbc.co.uk/a/b?c=1") == "bbc.co.uk"
    assert site_of("http://WWW.BBC.CO.UK:8080/") == "bbc.co.uk"
    assert site_of("www.example.com/path") == "example.com"  # no scheme
    assert site_of("https://alice.blogspot.com/x") == "alice.blogspot.com"
    assert site_of("https://bob.blogspot.com/x") != site_of("https://alice.blogspot.com/x")
    assert site_of("http://10.0.0.7/page") == "10.0.0.7"
    assert site_of("http://[2001:db8::1]:8080/x") == "2001:db8::1"
    assert site_of("https://user:pw@Shop.Example.co.uk./x") == "example.co.uk"
    for junk in (None, "", "   ", "not a url", "http://", "mailto:x@y.com", 42):
        assert site_of(junk) is None, junk


def test_reason_kind_is_the_family_and_fillers_are_not_reasons():
    assert reason_kind("Link lists: 25 of 29 headlines unrelated to the story") == "Link lists"
    assert reason_kind("Dates: no publication date anywhere on the page") == "Dates"
    assert reason_kind("No byline or declared author") == "No byline or declared author"
    assert reason_kind("no strong content-farm signs") is None
    assert reason_kind("note: unparseable WARC-Date '2008-10-294T05:21:46-0700'") is None
    assert reason_kind("") is None and reason_kind(None) is None


# ----- aggregation ---------------------------------------------------------------------------

def test_aggregation_counts_pages_quantiles_reasons_and_errors():
    trusts = [0.05, 0.1, 0.2, 0.3, 0.9, 0.95, 0.97, 0.99]
    rows = [row(f"https://www.farm.top/{i}", t, reasons=["Link lists: 3 of 4 unrelated", "Template: 2 FAQ blocks"])
            for i, t in enumerate(trusts)]
    rows += [row("https://farm.top/broken", None, error="decode error"),  # counted for farm.top, not in trust
             row(None, 0.8),  # scored, but in no site
             row(None, None, error="bad JSON"),
             row("https://good.org/a", 0.99, reasons=["no strong content-farm signs"])]
    agg = SiteAggregator()
    agg.add_all(rows)
    result = agg.result()

    farm = site(result, "farm.top")
    assert (farm["pages"], farm["scored"], farm["errors"], farm["flagged"]) == (9, 8, 1, 4)
    assert farm["trust_mean"] == pytest.approx(np.mean(trusts), abs=1e-4)
    for q, col in ((0.1, "trust_p10"), (0.5, "trust_p50"), (0.9, "trust_p90")):
        assert farm[col] == pytest.approx(np.quantile(trusts, q), abs=1e-4)
    assert farm["flagged_share"] == 0.5
    assert farm["top_reasons"] == "Link lists (8); Template (8)"
    assert site(result, "good.org")["top_reasons"] == ""

    t = result.totals
    assert (t.rows, t.scored, t.errors, t.flagged, t.without_site) == (12, 10, 2, 4, 2)
    assert result.sites["pages"].sum() + t.without_site == t.rows  # nothing dropped
    assert result.reason_pages[True]["Link lists"] == 4 and result.reason_pages[False]["Link lists"] == 4


def test_site_with_only_errors_is_unknown_and_keeps_its_count():
    agg = SiteAggregator()
    agg.add_all([row("https://down.net/1", None, error="timeout"), row("https://down.net/2", None, error="timeout")])
    s = site(agg.result(), "down.net")
    assert (s["pages"], s["scored"], s["errors"], s["label"]) == (2, 0, 2, "unknown")
    assert np.isnan(s["confidence"]) and np.isnan(s["trust_mean"])


def test_quantiles_of_a_huge_site_come_from_a_bounded_sample():
    rng = np.random.default_rng(1)
    trusts = rng.uniform(0, 1, 6000)
    agg = SiteAggregator(sample_size=500)
    agg.add_all(row(f"https://big.com/{i}", float(t)) for i, t in enumerate(trusts))
    assert len(agg.sites["big.com"].sample) == 500
    s = site(agg.result(), "big.com")
    assert s["scored"] == 6000
    assert s["trust_mean"] == pytest.approx(trusts.mean(), abs=1e-3)  # exact (running sum)
    for q, col in ((0.1, "trust_p10"), (0.5, "trust_p50"), (0.9, "trust_p90")):
        assert s[col] == pytest.approx(np.quantile(trusts, q), abs=0.06)


def test_grouped_quantiles_match_numpy_per_site():
    from spamdetect.sites import _grouped_quantiles

    rng = np.random.default_rng(3)
    lengths = np.array([0, 1, 2, 7, 0, 50, 3])
    values = rng.uniform(0, 1, lengths.sum())
    got = _grouped_quantiles(values, lengths, (0.1, 0.5, 0.9))
    start = 0
    for i, n in enumerate(lengths):
        if n == 0:
            assert np.isnan(got[i]).all()
        else:
            np.testing.assert_allclose(got[i], np.quantile(values[start:start + n], [0.1, 0.5, 0.9]))
        start += n


# ----- the label rule ------------------------------------------------------------------------

def test_farm_confidence_grows_with_page_count_at_the_same_flagged_share():
    n = np.array([1, 5, 10, 20, 50])
    labels, conf, p_farm = site_verdicts(np.round(0.8 * n), n)  # 1/1, 4/5, 8/10, 16/20, 40/50
    assert np.all(np.diff(p_farm) > 0)
    assert p_farm[0] == pytest.approx(0.75)  # one flagged page of one: weak evidence
    assert labels[0] == "unknown" and np.isnan(conf[0])
    assert list(labels[2:]) == ["farm"] * 3
    assert conf[-1] > 0.9999  # 40 of 50


def test_legit_confidence_grows_with_clean_pages_and_in_between_is_mixed():
    n = np.array([1, 2, 3, 10, 100])
    labels, conf, _ = site_verdicts(np.zeros(5), n)
    assert list(labels) == ["unknown", "unknown", "legit", "legit", "legit"]
    assert np.all(np.diff(conf[2:]) > 0)
    labels, conf, p_farm = site_verdicts(np.array([10, 1]), np.array([20, 2]))
    assert labels[0] == "mixed" and conf[0] >= 0.9 and p_farm[0] == pytest.approx(0.5)
    assert labels[1] == "unknown"  # 1 of 2: too few pages to say mixed


def test_base_rate_prior_makes_a_lone_flagged_page_weaker_evidence_in_a_clean_crawl():
    rows = [row(f"https://site{i}.com/", 0.95) for i in range(99)] + [row("https://lone.com/", 0.1)]
    agg = SiteAggregator()
    agg.add_all(rows)
    uniform = site(agg.result(prior="uniform"), "lone.com")["p_farm"]
    base = site(agg.result(prior="base-rate"), "lone.com")["p_farm"]
    assert base < uniform == pytest.approx(0.75)


def test_blocklist_holds_only_confident_farm_sites_with_enough_pages():
    agg = SiteAggregator()
    for domain, flagged, clean in (("zfarm.top", 8, 0), ("afarm.top", 5, 0), ("two.top", 2, 0), ("half.net", 6, 6),
                                   ("legit.org", 0, 9)):
        agg.add_all(row(f"https://{domain}/{i}", 0.1) for i in range(flagged))
        agg.add_all(row(f"https://{domain}/c{i}", 0.9) for i in range(clean))
    sites = agg.result().sites
    assert sites["label"].tolist()[:2] == ["farm", "farm"]  # farm sites first
    assert blocklist_domains(sites, min_confidence=0.95, min_pages=3) == ["afarm.top", "zfarm.top"]
    assert blocklist_domains(sites, min_confidence=0.95, min_pages=6) == ["zfarm.top"]


# ----- reading score files -------------------------------------------------------------------

def test_jsonl_gz_csv_and_parquet_score_files_aggregate_alike(tmp_path):
    rows = [row(f"https://s{i % 3}.com/{i}", i / 20, reasons=["Headline: spun wording", "Dates: stamped late"])
            for i in range(20)] + [row("https://s0.com/e", None, error="bad page")]
    for name in ("scores.jsonl", "scores.csv", "scores.parquet"):
        with open_writer(str(tmp_path / name)) as w:
            for r in rows:
                w.write(r)
    with gzip.open(tmp_path / "scores.jsonl.gz", "wt") as fh:
        fh.write((tmp_path / "scores.jsonl").read_text())
    frames = [aggregate_files([str(tmp_path / n)]).result().sites
              for n in ("scores.jsonl", "scores.jsonl.gz", "scores.csv", "scores.parquet")]
    assert frames[0]["pages"].sum() == 21
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], other)


def test_unreadable_lines_are_counted_as_errors_not_dropped(tmp_path):
    path = tmp_path / "scores.jsonl"
    path.write_text(json.dumps(row("https://a.com/1", 0.9)) + "\n{not json\n[1, 2]\n\n"
                    + json.dumps(row("https://a.com/2", 0.8)) + "\n")
    rows = list(iter_score_rows(str(path)))
    assert len(rows) == 4 and sum(bool(r["error"]) for r in rows) == 2
    t = aggregate_files([str(path)]).totals
    assert (t.rows, t.scored, t.errors, t.unreadable, t.without_site) == (4, 2, 2, 2, 2)


def test_a_gzipped_score_file_cut_short_gives_its_rows_and_an_unreadable_row_not_a_traceback(tmp_path, capsys):
    """What ``score -o x.jsonl.gz`` leaves while it runs or after a kill: complete gzip members, then a torn one."""
    from spamdetect.cli import main

    rows = [row(f"https://s{i % 3}.com/{i}", i / 20) for i in range(20)]
    lines = [json.dumps(r) + "\n" for r in rows]
    data = gzip.compress("".join(lines[:10]).encode()) + gzip.compress("".join(lines[10:]).encode())
    cut = tmp_path / "scores.jsonl.gz"
    cut.write_bytes(data[:-30])
    got = list(iter_score_rows(str(cut)))
    assert 10 <= len(got) - 1 < 20 and got[:-1] == rows[:len(got) - 1]
    assert got[-1]["error"] == (f"unreadable score row: cannot read past line {len(got) - 1}: the gzip stream ends "
                                "early (a run still writing the file, or one that was killed)")
    assert main(["sites", str(cut), "-o", str(tmp_path / "s.csv")]) == 0
    assert "1 unreadable" in capsys.readouterr().err
    with open_writer(str(tmp_path / "scores.csv")) as w:  # a gzipped CSV ends the same way
        for r in rows:
            w.write(r)
    cut_csv = tmp_path / "scores.csv.gz"
    cut_csv.write_bytes(gzip.compress((tmp_path / "scores.csv").read_bytes())[:-30])
    got = list(iter_score_rows(str(cut_csv)))
    assert [r["url"] for r in got[:-1]] == [r["url"] for r in rows[:len(got) - 1]]
    assert got[-1]["error"].startswith(f"unreadable score row: cannot read past line {len(got)}: the gzip stream")
    plain = tmp_path / "plain.jsonl.gz"  # not gzip at all: refused whole, as a table no score run wrote
    plain.write_text("".join(lines))
    assert main(["sites", str(plain), "-o", str(tmp_path / "s.csv")]) == 2
    assert capsys.readouterr().err == f"spamdetect sites: {plain} is not gzip data, though its name ends in .gz\n"


def test_a_score_file_on_stdin_is_read_gzipped_or_plain(tmp_path):
    rows = [row(f"https://s{i % 3}.com/{i}", i / 20) for i in range(20)]
    plain = "".join(json.dumps(r) + "\n" for r in rows).encode()
    cmd = [sys.executable, "-m", "spamdetect", "sites", "-", "-o", "-"]
    outs = [subprocess.run(cmd, input=data, capture_output=True, timeout=120) for data in (plain, gzip.compress(plain))]
    assert [p.returncode for p in outs] == [0, 0], outs[1].stderr.decode()
    assert outs[1].stdout == outs[0].stdout and outs[0].stdout.count(b"\n") == 4  # header and three sites


def test_cli_rejects_missing_files_and_unknown_formats_clearly(tmp_path, capsys):
    from spamdetect.cli import main

    assert main(["sites", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "s.csv")]) == 2
    assert "no such score file" in capsys.readouterr().err
    (tmp_path / "s.jsonl").write_text("")
    assert main(["sites", str(tmp_path / "s.jsonl"), "-o", str(tmp_path / "s.xlsx")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    # a table some other tool wrote, and a directory that is not a Parquet output, are refused, not
    # counted as rows of errors (a CSV with columns a,b gave "0 sites from 1 rows ... 1 errors", exit 0)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "other.parquet")
    for other in ("other.csv", "other.parquet"):
        assert main(["sites", str(tmp_path / other), "-o", str(tmp_path / "s.csv")]) == 2
        assert "is not a score file: it has no 'trust' or 'error' column" in capsys.readouterr().err
    assert main(["sites", str(tmp_path), "-o", str(tmp_path / "s.csv")]) == 2
    assert "is a directory that holds other files than Parquet (other.csv" in capsys.readouterr().err


def test_cli_refuses_an_output_that_is_an_input_and_says_so_when_an_output_cannot_be_written(tmp_path, capsys):
    from spamdetect.cli import main

    scores = tmp_path / "scores.jsonl"
    scores.write_text(json.dumps(row("https://a.com/1", 0.9)) + "\n")
    for flag in ("-o", "--blocklist", "--html"):
        args = ["sites", str(scores), "-o", str(tmp_path / "s.csv"), flag, str(scores)]
        assert main(args) == 2 and "is also an input" in capsys.readouterr().err
    assert json.loads(scores.read_text())["url"] == "https://a.com/1"  # the scores survive
    for flag, name in (("-o", "s.csv"), ("--blocklist", "b.txt")):
        args = ["sites", str(scores), "-o", str(tmp_path / "s.csv"), flag, str(tmp_path / "no" / name)]
        assert main(args) == 2  # a one-line message, not a traceback
        err = capsys.readouterr().err
        assert err.startswith("spamdetect sites: cannot write") and err.count("\n") == 1


# ----- the report ----------------------------------------------------------------------------

def test_report_escapes_page_derived_text():
    agg = SiteAggregator()
    agg.add_all([row("http://ex<b>am\"ple.com/", 0.1, reasons=["<script>alert(1)</script>: x", "Price $5 and $6: y"])])
    page = render_report(agg.result())
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>am" not in page and "ex&lt;b&gt;am&quot;ple.com" in page
    assert page.count("data:image/png;base64,") == 3


# ----- end to end: real scores through the real CLI, the report in headless Chromium ----------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spamdetect", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory) -> Path:
    """`spamdetect score` on real pages (the sample crawl, the Common Crawl WARC, 8 pages of the ClueWeb
    shop, four farm pages published under one domain), then `spamdetect sites` with every output."""
    from spamdetect.readers import read_inputs

    if not shipped_model_path().exists():
        pytest.skip("no shipped model (make model)")
    if not WARCS:
        pytest.skip("shared corpus not found (set SPAMDETECT_CORPUS)")
    tmp = tmp_path_factory.mktemp("sites")
    farm_html = (SAMPLE / "farm-rewrapped-story.html").read_text(encoding="utf-8")
    farm_text = (SAMPLE / "farm-text-dump.txt").read_text(encoding="utf-8")
    with open(tmp / "pages.jsonl", "w", encoding="utf-8") as fh:
        for i in range(4):
            page = {"html": farm_html} if i % 2 == 0 else {"text": farm_text}
            fh.write(json.dumps({"id": f"farm-{i}", "url": f"https://best-viral-newz.top/story-{i}/", **page}) + "\n")
        # 8 of the ClueWeb shop's 29 pages: a real site with several pages, at a third of the scoring time
        shop = [r for r in read_inputs([str(p) for p in WARCS if "clueweb" in p.name]) if r.page is not None][:8]
        for r in shop:
            fh.write(json.dumps({"id": r.id, "url": r.page.url, "html": r.page.html}) + "\n")
    scores = tmp / "scores.jsonl"
    proc = run_cli("score", str(tmp / "pages.jsonl"), str(SAMPLE), *[str(p) for p in WARCS if "clueweb" not in p.name],
                   "-o", str(scores), "--workers", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("sites", str(scores), "-o", str(tmp / "sites.csv"), "--html", str(tmp / "report.html"),
                   "--blocklist", str(tmp / "block.txt"))
    assert proc.returncode == 0, proc.stderr
    assert "1 farm" in proc.stderr and "1 blocklisted" in proc.stderr, proc.stderr
    return tmp


def test_cli_sites_table_and_blocklist_from_real_scores(real_run):
    scores = [json.loads(line) for line in (real_run / "scores.jsonl").read_text().splitlines()]
    sites = pd.read_csv(real_run / "sites.csv")
    errors = sum(1 for s in scores if s["error"])
    assert errors >= 2  # the sample's broken records
    with_site = [s for s in scores if site_of(s["url"])]
    assert sites["pages"].sum() == len(with_site)
    farm = sites[sites["domain"] == "best-viral-newz.top"].iloc[0]
    assert (farm["pages"], farm["flagged"], farm["label"]) == (5, 5, "farm") and farm["confidence"] > 0.95
    assert "Author profile looks generated" in farm["top_reasons"]
    shop = sites[sites["domain"] == "uraharajuku.st"].iloc[0]  # the ClueWeb shop: 8 real pages
    assert (shop["pages"], shop["flagged"], shop["label"]) == (8, 0, "legit") and shop["confidence"] > 0.99
    assert sites["label"].iloc[0] == "farm"  # farm sites first
    lines = (real_run / "block.txt").read_text().splitlines()
    assert lines[0].startswith("# spamdetect sites") and all(ln.startswith("#") for ln in lines[:-1])
    assert [ln for ln in lines if not ln.startswith("#")] == ["best-viral-newz.top"]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)


# Appended to a copy of the report: after load, writes what a person would see into the DOM.
_CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.map.call(document.images, function (im) {
    return {plot: im.getAttribute("data-plot"), complete: im.complete, w: im.naturalWidth, h: im.naturalHeight};
  });
  var domains = Array.prototype.map.call(document.querySelectorAll("#sites tbody tr"), function (tr) {
    return tr.getAttribute("data-domain");
  });
  var pagesHeader = Array.prototype.filter.call(document.querySelectorAll("#sites th"), function (th) {
    return th.textContent === "pages";
  })[0];
  pagesHeader.click(); pagesHeader.click();  // ascending, then descending
  var topByPages = document.querySelector("#sites tbody tr").getAttribute("data-domain");
  var out = document.createElement("pre");
  out.id = "sd-check";
  out.textContent = JSON.stringify({imgs: imgs, domains: domains, topByPages: topByPages});
  document.body.appendChild(out);
});
</script>
"""


def test_report_renders_in_headless_chromium(real_run, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium binary (Debian: apt-get install chromium); CI installs it")
    report = (real_run / "report.html").read_text(encoding="utf-8")
    assert "http://" not in report.replace("http://www.w3.org", "") and "<link" not in report  # self-contained
    checked = tmp_path / "checked.html"
    checked.write_text(report.replace("</body>", _CHECK_SCRIPT + "</body>"), encoding="utf-8")
    env = {**os.environ, "HOME": str(tmp_path)}
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars", "--virtual-time-budget=10000"]
    dom = subprocess.run([*base, "--dump-dom", checked.as_uri()], capture_output=True, text=True, timeout=90, env=env)
    assert dom.returncode == 0, dom.stderr[-2000:]
    start = dom.stdout.index('<pre id="sd-check">') + len('<pre id="sd-check">')
    check = json.loads(dom.stdout[start:dom.stdout.index("</pre>", start)].replace("&quot;", '"').replace("&amp;", "&"))

    plots = {im["plot"]: im for im in check["imgs"]}
    assert set(plots) == {"trust distribution", "top farm domains", "reason frequencies"}
    assert all(im["complete"] and im["w"] > 300 and im["h"] > 150 for im in plots.values()), plots
    sites = pd.read_csv(real_run / "sites.csv")
    assert check["domains"] == sites["domain"].tolist()
    assert check["topByPages"] == "uraharajuku.st"  # the header click sorts

    shot = tmp_path / "report.png"
    proc = subprocess.run([*base, "--window-size=1280,1800", f"--screenshot={shot}",
                           (real_run / "report.html").as_uri()], capture_output=True, text=True, timeout=90, env=env)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    assert pixels.shape[:2] == (1800, 1280)
    not_white = (pixels < 235).any(axis=2).mean()
    reddish = ((pixels[..., 0] > 180) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)).mean()  # farm bars, badges
    assert not_white > 0.03, f"screenshot looks blank ({not_white:.1%} non-white)"
    assert reddish > 0.0005
