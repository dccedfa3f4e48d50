"""The HTML site report: one self-contained file (inline CSS, PNG plots as data URIs, no network).

Everything that comes from crawled pages (domains, reasons) and from the command line (file
names) is escaped with ``html.escape``. Plots are drawn on matplotlib ``Figure`` objects with
the Agg canvas (no pyplot state, no GUI), with math text off so a '$' in a name stays a '$'.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections import Counter
from datetime import datetime, timezone
from importlib.resources import files
from pathlib import Path
from string import Template

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from spamdetect.sites import FARM_CUT, MIXED_RANGE, SITE_LABELS, SiteResult

COLORS = {"farm": "#d92d20", "mixed": "#f79009", "unknown": "#98a2b3", "legit": "#12b76a"}
TOP_DOMAINS = 20
TOP_KINDS = 12
DEFAULT_MAX_ROWS = 2000  # table rows in the report; every site is in the sites table file

# (header, column, kind, css class): kind picks the formatting and how a header click sorts
_TABLE = [("domain", "domain", "text", "domain"), ("label", "label", "label", ""),
          ("confidence", "confidence", "prob", "num"), ("P(farm)", "p_farm", "prob", "num"),
          ("pages", "pages", "int", "num"), ("scored", "scored", "int", "num"), ("errors", "errors", "int", "num"),
          ("flagged", "flagged", "int", "num"), ("flagged share", "flagged_share", "share", "num"),
          ("trust mean", "trust_mean", "trust", "num"), ("p10", "trust_p10", "trust", "num"),
          ("p50", "trust_p50", "trust", "num"), ("p90", "trust_p90", "trust", "num"),
          ("top reasons", "top_reasons", "text", "reasons")]


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png_data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _short(text: str, most: int = 48) -> str:
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def trust_histogram(result: SiteResult) -> Figure:
    """Page trust, stacked by the label of the page's site."""
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    bins = len(next(iter(result.trust_hist.values())))
    edges = np.linspace(0.0, 1.0, bins + 1)
    bottom = np.zeros(bins)
    for label in SITE_LABELS:
        counts = result.trust_hist[label]
        if counts.sum() > 0:
            ax.bar(edges[:-1], counts, width=np.diff(edges), bottom=bottom, align="edge", color=COLORS[label],
                   edgecolor="white", linewidth=0.3, label=f"{label} sites ({int(round(counts.sum()))} pages)")
            bottom += counts
    if bottom.sum() == 0:
        ax.text(0.5, 0.5, "no scored pages", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(loc="upper center", fontsize=8, frameon=False)
    ax.set_xlim(0, 1)
    ax.set_xlabel("page trust (1 = trustworthy)")
    ax.set_ylabel("pages")
    ax.set_title("Trust of pages, by the verdict on their site", fontsize=11)
    return fig


def top_farm_domains(result: SiteResult, top: int = TOP_DOMAINS) -> Figure:
    """Farm sites with the most flagged pages (other sites with flagged pages when there is no farm site)."""
    sites = result.sites
    farms = sites[sites["label"] == "farm"]
    title = f"Top farm sites by flagged pages ({len(farms)} farm sites)"
    if farms.empty:
        farms = sites[sites["flagged"] > 0]
        title = "No farm-labelled site: sites with the most flagged pages"
    farms = farms.sort_values(["flagged", "pages", "domain"], ascending=[False, False, True]).head(top)
    fig = _figure(6.4, max(2.6, 0.9 + 0.24 * len(farms)))
    ax = fig.add_subplot()
    if farms.empty:
        ax.text(0.5, 0.5, "no flagged pages", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        y = np.arange(len(farms))[::-1]
        ax.barh(y, farms["flagged"], color=COLORS["farm"], label="flagged pages")
        ax.barh(y, farms["scored"] - farms["flagged"], left=farms["flagged"], color="#d0d5dd",
                label="other scored pages")
        names = [_short(d, 36) + ("" if lab == "farm" else f" ({lab})")
                 for d, lab in zip(farms["domain"], farms["label"])]
        ax.set_yticks(y, labels=names, fontsize=8)
        ax.set_xlabel("pages")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_title(title, fontsize=11)
    return fig


def reason_frequencies(result: SiteResult, top: int = TOP_KINDS) -> Figure:
    """How many pages name each reason kind, on flagged pages and on the others."""
    flagged, other = result.reason_pages[True], result.reason_pages[False]
    total = Counter(flagged) + Counter(other)
    kinds = [k for k, _ in sorted(total.items(), key=lambda kv: (-flagged[kv[0]], -kv[1], kv[0]))[:top]]
    fig = _figure(6.4, max(2.6, 1.1 + 0.3 * len(kinds)))
    ax = fig.add_subplot()
    if not kinds:
        ax.text(0.5, 0.5, "no reasons given", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        y = np.arange(len(kinds))[::-1]
        ax.barh(y + 0.2, [flagged[k] for k in kinds], height=0.4, color=COLORS["farm"], label="flagged pages")
        ax.barh(y - 0.2, [other[k] for k in kinds], height=0.4, color="#667085", label="other pages")
        ax.set_yticks(y, labels=[_short(k, 44) for k in kinds], fontsize=8)
        ax.set_xlabel("pages naming the reason")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_title("Reason kinds", fontsize=11)
    return fig


def _cell(value: object, kind: str, css: str) -> str:
    """One <td> with its display text and, in data-v, the value the header click sorts by."""
    cls = f' class="{css}"' if css else ""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if kind == "text":
        text = "" if missing else str(value)
        return f'<td{cls} data-v="{_esc(text)}">{_esc(text)}</td>'
    if kind == "label":
        text = str(value)
        rank = SITE_LABELS.index(text) if text in SITE_LABELS else len(SITE_LABELS)
        return f'<td{cls} data-v="{rank}"><span class="badge {_esc(text)}">{_esc(text)}</span></td>'
    if missing:
        return f'<td{cls} data-v="-1"></td>'
    fmt = {"int": "{:,.0f}", "prob": "{:.3f}", "share": "{:.0%}", "trust": "{:.2f}"}[kind]
    return f'<td{cls} data-v="{float(value)!r}">{fmt.format(value)}</td>'


def _table(sites: pd.DataFrame, max_rows: int) -> tuple[str, str]:
    head = "".join(f'<th data-type="{"text" if kind == "text" else "num"}">{_esc(name)}</th>'
                   for name, _, kind, _ in _TABLE)
    rows = []
    for rec in sites.head(max_rows).to_dict("records"):
        cells = "".join(_cell(rec[col], kind, css) for _, col, kind, css in _TABLE)
        rows.append(f'<tr class="{_esc(rec["label"])}" data-domain="{_esc(rec["domain"])}">{cells}</tr>')
    return head, "\n".join(rows)


def render_report(result: SiteResult, *, max_rows: int = DEFAULT_MAX_ROWS, title_note: str = "") -> str:
    """The report as one HTML string."""
    t, counts = result.totals, result.label_counts()
    sites = result.sites
    farm_pages = int(sites.loc[sites["label"] == "farm", "pages"].sum())
    cards = [("score rows", t.rows, ""), ("scored pages", t.scored, ""), ("errors", t.errors, ""),
             ("rows without a site", t.without_site, ""), ("flagged pages", t.flagged, ""), ("sites", len(sites), ""),
             ("farm sites", counts["farm"], "farm"), ("mixed sites", counts["mixed"], "mixed"),
             ("legit sites", counts["legit"], "legit"), ("unknown", counts["unknown"], ""),
             ("pages on farm sites", farm_pages, "farm")]
    card_html = "\n".join(f'<div class="card {css}"><b>{n:,}</b><span>{_esc(name)}</span></div>'
                          for name, n, css in cards)
    rule = result.rule
    prior = ("uniform Beta(1, 1)" if rule["prior"] == "uniform"
             else f"base rate Beta({rule['prior_a']:.3g}, {rule['prior_b']:.3g})")
    rule_html = (
        f"Each site's flagged share <i>s</i> (pages the page model labelled farm) gets a Beta posterior from its "
        f"flagged and scored page counts ({_esc(prior)} prior). <b>farm</b>: P(<i>s</i> &gt; {FARM_CUT}) &ge; "
        f"{rule['threshold']}; <b>legit</b>: P(<i>s</i> &lt; {FARM_CUT}) &ge; {rule['threshold']}; <b>mixed</b>: "
        f"neither, but P({MIXED_RANGE[0]} &le; <i>s</i> &le; {MIXED_RANGE[1]}) &ge; {rule['threshold']}; "
        f"<b>unknown</b>: too few pages to tell. Confidence is the posterior probability of the label, so it grows "
        f"with the number of pages: one flagged page of one is weak evidence (0.75), 40 of 50 is strong. "
        f"Sites are registrable domains (private suffixes such as blogspot.com count as separate sites). "
        f"Errors are counted, never used for trust.")
    with matplotlib.rc_context({"text.parse_math": False}):  # a '$' in a domain or reason is text
        plots = [("trust distribution", trust_histogram(result), "Page trust histogram, coloured by the site verdict."),
                 ("top farm domains", top_farm_domains(result), "Flagged (coloured) and other scored pages per site."),
                 ("reason frequencies", reason_frequencies(result), "Pages naming each reason kind (text before ':').")]
        plot_html = "\n".join(
            f'<figure><img alt="{_esc(name)}" data-plot="{_esc(name)}" src="{_png_data_uri(fig)}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>" for name, fig, caption in plots)
    head, rows = _table(sites, max_rows)
    shown = min(len(sites), max_rows)
    table_note = (f"{shown:,} of {len(sites):,} sites, farm sites first; click a header to sort."
                  + ("" if shown == len(sites) else " The rest are in the sites table file."))
    inputs = ", ".join(_esc(p) for p in t.inputs) or "(none)"
    meta = (f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from {inputs}. {_esc(title_note)}").strip()
    template = Template(files("spamdetect").joinpath("data/site_report.html").read_text(encoding="utf-8"))
    return template.substitute(meta=meta, cards=card_html, rule=rule_html, plots=plot_html, table_note=_esc(table_note),
                               table_head=head, table_rows=rows)


def write_report(result: SiteResult, path: str | Path, *, max_rows: int = DEFAULT_MAX_ROWS) -> Path:
    """Write the report; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(result, max_rows=max_rows), encoding="utf-8")
    return path
