"""Turning a `Report` into what people read: the charts (server-side SVG from `handlers.console.charts`, so the
console, the print page and the PDF look the same) and the standalone print HTML the PDF is made from.

`environment()` is the console's own Jinja2 environment (`build_environment`) with the reports' templates, for
callers outside a web request (the command line, the monthly job).
"""
from __future__ import annotations

import functools
from pathlib import Path

import jinja2
from markupsafe import Markup

from handlers.console.charts import bar_chart, multi_line_chart
from handlers.console.render import build_environment
from handlers.reports.figures import Report

HERE = Path(__file__).parent
CSS = (HERE / "report.css").read_text(encoding="utf-8")
RANKED_SHOWN = 15  # bars per ranking chart; the XLSX and the tables keep every community


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return build_environment([HERE / "templates"])


def charts(report: Report) -> dict[str, Markup]:
    """The report's charts (rates are drawn only for months with tickets: no tickets is no rate, not 0 %)."""
    labels = [label for label, _ in report.trend]
    out = {
        "trend": multi_line_chart([("受理", [(m, f.received) for m, f in report.trend]),
                                   ("办结", [(m, f.resolved) for m, f in report.trend])],
                                  title="近六个月受理与办结（件）"),
        "rates": multi_line_chart([(name, [(m, getattr(f, key) or 0) for m, f in report.trend if f.received])
                                   for name, key in (("响应率", "response_rate"), ("解决率", "resolution_rate"),
                                                     ("满意率", "satisfaction_rate"))],
                                  title="近六个月响应率、解决率、满意率", unit="%"),
        "channels": bar_chart([(name, f.received) for name, f in report.by_channel], title="按渠道受理（件）"),
        "categories": bar_chart([(name, f.received) for name, f in report.by_category[:12]],
                                title="按类别受理（件）"),
        "topics": bar_chart([(title, n) for title, n in report.questions["topics"]], title="问得最多的政策问题（次）",
                            label_width=130),
    }
    out["trend_labels"] = Markup("、".join(labels))
    for ranking in report.rankings:
        shown = [(name, value) for _, name, value in ranking.rows if value is not None][:RANKED_SHOWN]
        out["rank_" + ranking.key] = bar_chart(shown, title=ranking.label, unit=ranking.unit if ranking.unit == "%"
                                               else "", max_value=100 if ranking.unit == "%" else None)
    return out


def print_html(report: Report, *, generated_by: str, inline_css: bool = True, css_href: str = "") -> str:
    """The standalone printable page (the PDF's source): every style inline unless `css_href` is given."""
    template = environment().get_template("reports/print.html")
    return template.render(report=report, charts=charts(report), generated_by=generated_by,
                           inline_css=Markup(CSS) if inline_css else None, css_href=css_href, actions=False)
