"""The report as one self-contained HTML page (`--format html`).

What it shows, decisions first: the grade (and what capped it), the declared architecture the
review used and how many findings a higher persona would add; the decisions to take (the findings
grouped by rule, by consequence, the first few, each linking to its first finding); the counts and
the score of each layer (with what moved it most), a module x layer heatmap drawn as inline SVG (a
cell lists its findings when selected), and every finding, collapsed, in a table that filters by
severity, layer, module and text and sorts by score; each finding opens its ADR text, its source
line with the offending property marked and its related locations; a finding with a fix shows it
under its decision, as a diff of its edits (reviewer.outputs.fixdiff: removed lines in `del`,
added ones in `ins`, so the page's style sheet, and with it its hash, is the same with or without
fixes). Then the accepted risks and a
summary by rule (one row per rule, however many findings it has).

How it is built:
- self-contained: inline CSS and SVG and one small inline script; a Content-Security-Policy meta
  forbids every remote load and admits only that style sheet and that script, by hash, so even a
  page that escaping had failed on could run nothing else;
- every string that comes from the repository or the report passes through `_e` (html.escape
  after control and invisible format characters are dropped); links are made only from
  http(s) references (`_safe_url`); the script never writes HTML (textContent and attributes);
- light and dark schemes (prefers-color-scheme), real buttons/selects/inputs with focus styles
  and aria attributes, and a print style that drops the controls and opens every finding;
- pure: same report, same page (no timestamps, no randomness).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from reviewer.core.types import (
    LAYER_LABELS,
    Finding,
    ModuleSummary,
    Persona,
    Report,
    ScoreBlock,
    Severity,
)
from reviewer.outputs import RenderOptions, insights
from reviewer.outputs.fixdiff import diff_lines, hunks, visible
from reviewer.outputs.limits import PATH_CHARS, TEXT_CHARS, clip
from reviewer.outputs.text import display_width, finding_excerpt

# -- escaping ---------------------------------------------------------------------------------


def _visible(value: object) -> str:
    """Text as a person should see it: control characters (but newlines) become spaces and
    invisible format characters (bidi overrides, zero-width joiners) are dropped."""
    out: list[str] = []
    for ch in str(value):
        cat = unicodedata.category(ch)
        if ch == "\n":
            out.append(ch)
        elif cat == "Cc" or ch in "\u2028\u2029":
            out.append(" ")
        elif cat != "Cf":
            out.append(ch)
    return "".join(out)


def _e(value: object, limit: int = TEXT_CHARS) -> str:
    """Any text as inert HTML, safe in an element and in a quoted attribute, clipped to `limit`
    characters before it is escaped."""
    return html.escape(_visible(clip(str(value), limit)), quote=True)


def _safe_url(url: str) -> str | None:
    """An http(s) URL that is safe to link to, else None (javascript:, data:, relative ...)."""
    candidate = url.strip()
    if not candidate or any(ch.isspace() or not ch.isprintable() for ch in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return candidate


def _path(file: str, line: int | None = None) -> str:
    """A file path (and line) that wraps only after a slash."""
    text = _e(clip(file, PATH_CHARS) + ("" if line is None else f":{line}"), PATH_CHARS + 12)
    return text.replace("/", "/<wbr>")


def _paragraphs(value: str) -> str:
    blocks = [b.strip() for b in re.split(r"\n\s*\n", _visible(value)) if b.strip()]
    return "".join(f"<p>{html.escape(' '.join(b.split()))}</p>" for b in blocks)


# -- page -------------------------------------------------------------------------------------

_SEVERITY_LABEL = {s: s.value.capitalize() for s in Severity}

_STYLE = """
:root{color-scheme:light dark;--bg:#f6f8fa;--panel:#fff;--fg:#1f2328;--muted:#59636e;
--line:#d1d9e0;--accent:#0969da;--focus:#0969da;--code:#f6f8fa;--mark:#fff1b8;
--gA:#1a7f37;--gB:#4c9a2a;--gC:#bf8700;--gD:#d1570f;--gF:#cf222e;--gN:#8c959f;
--on-g:#fff;--sev-critical:#8250df;--sev-high:#cf222e;--sev-medium:#bc4c00;
--sev-low:#0969da;--sev-info:#6e7781;--track:#e6eaef}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--panel:#161b22;--fg:#e6edf3;
--muted:#9198a1;--line:#30363d;--accent:#4493f8;--focus:#4493f8;--code:#0d1117;
--mark:#5a4a00;--gA:#2ea043;--gB:#6a9f2a;--gC:#b08800;--gD:#db6d28;--gF:#da3633;
--gN:#6e7681;--sev-critical:#ab7df8;--sev-high:#f85149;--sev-medium:#db6d28;
--sev-low:#4493f8;--sev-info:#9198a1;--track:#30363d}}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg)}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",
Arial,sans-serif}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,
"Liberation Mono",monospace;font-size:13px}
a{color:var(--accent)}
.skip{position:absolute;left:-999px;top:0;background:var(--panel);padding:.5rem 1rem;z-index:9}
.skip:focus{left:1rem}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);
white-space:nowrap}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
header.top,main,footer{max-width:1240px;margin:0 auto;padding:0 24px}
header.top{padding-top:24px}
.tool{margin:0;color:var(--muted);font-size:13px;letter-spacing:.04em;text-transform:uppercase}
h1{margin:.1rem 0 .2rem;font-size:26px;line-height:1.25;overflow-wrap:anywhere}
h2{font-size:18px;margin:0 0 .75rem}
h3{font-size:15px;margin:0 0 .5rem}
.meta{margin:0;color:var(--muted);overflow-wrap:anywhere}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:16px 18px}
.summary{display:grid;grid-template-columns:auto 1fr 1.3fr;gap:16px;margin:20px 0}
.grade-card{display:flex;align-items:center;gap:16px}
.grade-letter{display:inline-grid;place-items:center;width:76px;height:76px;border-radius:14px;
font-size:46px;font-weight:700;color:var(--on-g);background:var(--gN)}
.grade-score{font-size:28px;font-weight:650;display:block}
.grade-score small{font-size:15px;color:var(--muted);font-weight:400}
.grade-note{color:var(--muted);font-size:13px}
.g-A{background:var(--gA);fill:var(--gA)}.g-B{background:var(--gB);fill:var(--gB)}
.g-C{background:var(--gC);fill:var(--gC)}.g-D{background:var(--gD);fill:var(--gD)}
.g-F{background:var(--gF);fill:var(--gF)}.g-N{background:var(--gN);fill:var(--gN)}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:0}
.counts div{min-width:88px;padding:6px 10px;border-radius:8px;border:1px solid var(--line);
border-left:5px solid var(--c,var(--gN))}
.counts dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.counts dd{margin:0;font-size:22px;font-weight:650}
.c-critical{--c:var(--sev-critical)}.c-high{--c:var(--sev-high)}
.c-medium{--c:var(--sev-medium)}.c-low{--c:var(--sev-low)}.c-info{--c:var(--sev-info)}
.movers ol{margin:0;padding-left:1.2rem}
.movers li{margin:.15rem 0}
.pts{font-weight:650;color:var(--sev-high);font-variant-numeric:tabular-nums}
.where{color:var(--muted)}
.charts{display:grid;grid-template-columns:minmax(0,1fr);gap:16px;margin-bottom:16px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
thead th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.layers th[scope=row]{font-weight:600;white-space:nowrap}
table.layers .lbl{font-weight:400;color:var(--muted);font-size:13px;margin-left:.5em}
table.layers th,table.layers td{padding:4px 8px}
table.layers td.by{font-size:13px;overflow-wrap:anywhere}
.bar{width:24%;min-width:90px;vertical-align:middle}
table.layers td,table.layers th{vertical-align:middle}
.bar svg{display:block;width:100%;height:10px}
.track{fill:var(--track)}
.badge{display:inline-block;min-width:1.7em;padding:0 .4em;border-radius:6px;text-align:center;
font-weight:700;color:var(--on-g)}
.heatmap{max-width:100%;height:auto;display:block}
.heatmap text{fill:var(--fg);font-size:12px;font-family:inherit}
.heatmap .colhead{font-weight:650}
.heatmap .rowhead{font-size:12.5px}
.heatmap .cell text{fill:var(--on-g);font-weight:650;font-size:11.5px;pointer-events:none}
.heatmap .cell{cursor:pointer}
.heatmap .cell:hover rect,.heatmap .cell:focus rect{stroke:var(--fg);stroke-width:2.5}
.heatmap .cell:focus{outline:none}
.heatmap .empty{fill:none;stroke:var(--line);stroke-dasharray:3 3}
.heatmap .sep{stroke:var(--line)}
.legend{display:flex;flex-wrap:wrap;gap:10px;margin:.5rem 0 0;padding:0;list-style:none;
font-size:12.5px;color:var(--muted)}
.legend span{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:4px;
vertical-align:-1px}
.hint{margin:-.4rem 0 .6rem;color:var(--muted);font-size:13px}
.toolbar{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:end;margin-bottom:8px}
.toolbar label,.toolbar .lbl{display:flex;flex-direction:column;font-size:12px;
color:var(--muted);gap:2px}
.sevs{display:flex;gap:6px;flex-wrap:wrap}
button,select,input{font:inherit;font-size:14px;color:var(--fg);background:var(--panel);
border:1px solid var(--line);border-radius:6px;padding:4px 10px}
button{cursor:pointer}
button:hover{border-color:var(--muted)}
.sevs button{border-left:5px solid var(--c)}
.sevs button[aria-pressed=true]{background:var(--c);color:#fff;border-color:var(--c)}
.sevs button .n{font-variant-numeric:tabular-nums;opacity:.85;margin-left:.35em}
#filter-status{margin:.25rem 0 .5rem;color:var(--muted);font-size:13px}
table.findings{table-layout:auto}
table.findings tbody.finding>tr.row>td{border-bottom:1px solid var(--line)}
table.findings tbody.finding:hover>tr.row{background:color-mix(in srgb,var(--accent) 6%,transparent)}
.sev{display:inline-block;padding:0 .5em;border-radius:999px;font-size:12px;font-weight:650;
color:#fff;background:var(--c);white-space:nowrap}
.new{display:inline-block;margin-left:.3em;padding:0 .4em;border-radius:4px;font-size:11px;
font-weight:700;border:1px solid var(--accent);color:var(--accent)}
button.toggle{display:block;width:100%;text-align:left;border:0;background:none;padding:0;
color:var(--fg);font-weight:600}
button.toggle::before{content:"\\25B8";display:inline-block;width:1em;color:var(--muted);
transition:transform .15s}
button.toggle[aria-expanded=true]::before{transform:rotate(90deg)}
button.toggle .rule{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;
color:var(--muted);font-weight:500;margin-right:.3em}
.subj{display:block;margin-left:1em;font-size:13px;color:var(--muted);overflow-wrap:anywhere}
td.loc{font-size:12.5px;max-width:20rem}
td.mod{max-width:12rem}
table.layers .where{display:block}
select{max-width:17rem}
input[type=search]{width:15rem}
th button.sort{border:0;background:none;padding:0;font:inherit;color:inherit;
text-transform:inherit;letter-spacing:inherit}
th button.sort::after{content:" \\2195";opacity:.6}
th[aria-sort=descending] button.sort::after{content:" \\2193";opacity:1}
th[aria-sort=ascending] button.sort::after{content:" \\2191";opacity:1}
tr.detail>td{background:var(--bg);padding:14px 16px 18px}
.detail-grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.1fr);gap:18px}
.message{margin-top:0}
figure.source{margin:0 0 .8rem}
figure.source figcaption{font-size:12.5px;color:var(--muted);margin-bottom:2px;
overflow-wrap:anywhere}
figure.source pre{margin:0;padding:8px 10px;background:var(--code);border:1px solid var(--line);
border-radius:6px;overflow-x:auto;line-height:1.45}
.ln{color:var(--muted);user-select:none}
mark{background:var(--mark);color:inherit;border-radius:2px}
.caret{color:var(--c);font-weight:700}
dl.facts{display:grid;grid-template-columns:auto 1fr;gap:2px 12px;margin:0;font-size:13.5px}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.adr{border-left:3px solid var(--accent);padding-left:14px}
.adr h3{font-size:15px}
.adr h4{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);
margin:.7rem 0 .1rem}
.adr p{margin:.2rem 0}
.adr ul{margin:.2rem 0;padding-left:1.2rem;font-size:13.5px;overflow-wrap:anywhere}
.s-critical{--c:var(--sev-critical)}.s-high{--c:var(--sev-high)}.s-medium{--c:var(--sev-medium)}
.s-low{--c:var(--sev-low)}.s-info{--c:var(--sev-info)}
section{margin-bottom:16px}
.verdict{margin:.3rem 0 .1rem;font-size:17px;font-weight:650}
.verdict .cap{font-weight:400;color:var(--sev-high)}
.notice{margin:.4rem 0;padding:6px 10px;border-left:4px solid var(--accent);
background:var(--panel);overflow-wrap:anywhere}
.cap-note{display:block;color:var(--sev-high);font-size:13px}
.layers .cap{font-size:12px;color:var(--muted);margin-left:.4em}
ol.decisions{margin:0;padding-left:1.6rem}
ol.decisions>li{margin:.1rem 0 .7rem}
ol.decisions .head{font-weight:600;overflow-wrap:anywhere}
ol.decisions .rule{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;
color:var(--muted);font-weight:500;margin:0 .3em}
ol.decisions .places{display:block;font-size:13px;color:var(--muted);overflow-wrap:anywhere}
ol.decisions .decide{display:block;margin-top:.1rem}
table.rules td.title{overflow-wrap:anywhere}
footer{color:var(--muted);font-size:13px;padding-bottom:32px}
@media (max-width:900px){.summary,.detail-grid{grid-template-columns:1fr}}
@media (prefers-reduced-motion:reduce){button.toggle::before{transition:none}}
@media print{
html,body{background:#fff;color:#000}
:root{--bg:#fff;--panel:#fff;--fg:#000;--muted:#444;--line:#bbb;--code:#fff}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.skip,.toolbar,.hint,#filter-status,th button.sort::after,button.toggle::before{display:none}
header.top,main,footer{max-width:none;padding:0}
.panel{border:1px solid #bbb;break-inside:avoid}
.summary{grid-template-columns:auto 1fr 1fr}
tr.detail[hidden]{display:table-row}
tbody.finding{break-inside:avoid}
.detail-grid{grid-template-columns:1fr 1fr}
figure.source pre{white-space:pre-wrap}
.adr a::after{content:" (" attr(href) ")";font-size:11px;color:#444}
.adr a{color:#000;text-decoration:none}
}
"""

_SCRIPT = """
(function () {
  "use strict";
  var d = document;
  var table = d.getElementById("findings-table");
  if (!table) { return; }
  var items = Array.prototype.filter.call(table.tBodies, function (b) {
    return b.classList.contains("finding");
  });
  var none = d.getElementById("no-match");
  var status = d.getElementById("filter-status");
  var sevs = Array.prototype.slice.call(d.querySelectorAll("button[data-severity-filter]"));
  var layerSel = d.getElementById("filter-layer");
  var moduleSel = d.getElementById("filter-module");
  var search = d.getElementById("filter-text");
  var newOnly = d.getElementById("filter-new");
  var sortButton = d.getElementById("sort-score");
  var sortHeader = sortButton.parentNode;
  var toggleAll = d.getElementById("toggle-all");
  var heading = d.getElementById("findings-h");

  function toggleOf(item) { return item.querySelector("button.toggle"); }
  function setOpen(item, open) {
    var button = toggleOf(item);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    d.getElementById(button.getAttribute("aria-controls")).hidden = !open;
  }
  function isOpen(item) { return toggleOf(item).getAttribute("aria-expanded") === "true"; }

  function apply() {
    var wanted = sevs.filter(function (b) {
      return b.getAttribute("aria-pressed") === "true";
    }).map(function (b) { return b.getAttribute("data-severity-filter"); });
    var layer = layerSel.value, module = moduleSel.value;
    var q = search.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (item) {
      var ok = (wanted.length === 0 || wanted.indexOf(item.dataset.severity) >= 0)
        && (!layer || item.dataset.layer === layer)
        && (!module || item.dataset.module === module)
        && (!newOnly || !newOnly.checked || item.dataset.new === "true")
        && (!q || item.rows[0].textContent.toLowerCase().indexOf(q) >= 0);
      item.hidden = !ok;
      if (ok) { shown += 1; }
    });
    none.hidden = shown !== 0;
    status.textContent = "Showing " + shown + " of " + items.length + " finding"
      + (items.length === 1 ? "" : "s") + ".";
  }

  items.forEach(function (item) {
    setOpen(item, false);
    toggleOf(item).addEventListener("click", function () { setOpen(item, !isOpen(item)); });
  });
  sevs.forEach(function (b) {
    b.addEventListener("click", function () {
      var on = b.getAttribute("aria-pressed") === "true";
      b.setAttribute("aria-pressed", on ? "false" : "true");
      apply();
    });
  });
  layerSel.addEventListener("change", apply);
  moduleSel.addEventListener("change", apply);
  search.addEventListener("input", apply);
  if (newOnly) { newOnly.addEventListener("change", apply); }
  d.getElementById("filter-reset").addEventListener("click", function () {
    sevs.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    layerSel.value = ""; moduleSel.value = ""; search.value = "";
    if (newOnly) { newOnly.checked = false; }
    apply();
  });

  var order = "none";
  sortButton.addEventListener("click", function () {
    order = order === "none" ? "descending" : order === "descending" ? "ascending" : "none";
    items.slice().sort(function (a, b) {
      var byOrder = Number(a.dataset.order) - Number(b.dataset.order);
      if (order === "none") { return byOrder; }
      var diff = Number(a.dataset.score) - Number(b.dataset.score);
      return (order === "descending" ? -diff : diff) || byOrder;
    }).forEach(function (item) { table.insertBefore(item, none); });
    sortHeader.setAttribute("aria-sort", order);
  });

  toggleAll.addEventListener("click", function () {
    var open = toggleAll.getAttribute("aria-pressed") !== "true";
    toggleAll.setAttribute("aria-pressed", open ? "true" : "false");
    toggleAll.textContent = open ? "Collapse all" : "Expand all";
    items.forEach(function (item) { if (!item.hidden) { setOpen(item, open); } });
  });

  function pick(cell) {
    sevs.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    moduleSel.value = cell.getAttribute("data-module");
    layerSel.value = cell.getAttribute("data-layer") || "";
    search.value = "";
    if (newOnly) { newOnly.checked = false; }
    apply();
    heading.focus();
    heading.scrollIntoView({block: "start"});
  }
  Array.prototype.forEach.call(d.querySelectorAll(".heatmap .cell"), function (cell) {
    cell.addEventListener("click", function () { pick(cell); });
    cell.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(cell); }
    });
  });

  function reveal(scroll) {
    var target = location.hash ? d.getElementById(location.hash.slice(1)) : null;
    if (!target || !target.classList.contains("finding")) { return; }
    if (target.hidden) { d.getElementById("filter-reset").click(); }
    setOpen(target, true);
    if (scroll) { target.scrollIntoView({block: "start"}); }
  }
  window.addEventListener("hashchange", function () { reveal(true); });
  d.documentElement.classList.add("js");
  apply();
  reveal(false);
}());
"""


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


CSP = (
    "default-src 'none'; "
    f"style-src '{_sha256(_STYLE)}'; "
    f"script-src '{_sha256(_SCRIPT)}'; "
    "img-src 'none'; font-src 'none'; connect-src 'none'; media-src 'none'; "
    "object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
)


def render(report: Report, options: RenderOptions | None = None) -> str:
    return render_html(report)


def render_html(report: Report) -> str:
    live = insights.severity_order(f for f in report.findings if f.suppressed is None)
    accepted = sorted(
        (f for f in report.findings if f.suppressed is not None), key=Finding.sort_key
    )
    groups = insights.report_groups(report)
    anchors = {id(f): f"f-{i}" for i, f in enumerate(live, 1)}  # the ids _findings gives them
    name = _root_name(report.root)
    block = report.score
    title = f"archreview: {name}, " + (
        f"grade {block.grade} ({block.score:.1f}/100)" if block.score is not None else "no score"
    )
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f'<meta name="generator" content="archreview {_e(report.tool_version)}">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#findings">Skip to the findings</a>',
        _masthead(report, name),
        "<main>",
        _decisions(groups, anchors),
        _summary(report),
        '<div class="charts">',
        _layers(report),
        _map(report),
        "</div>",
        _findings(report, live),
        _accepted(accepted),
        _rule_summary(groups),
        "</main>",
        f"<footer><p>Made by archreview {_e(report.tool_version)}. Scores ignore "
        "--min-confidence and PR mode; suppressed findings cost nothing.</p></footer>",
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _root_name(root: str) -> str:
    trimmed = root.replace("\\", "/").rstrip("/")
    return trimmed.rsplit("/", 1)[-1] or trimmed or "."


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- sections ---------------------------------------------------------------------------------


def _masthead(report: Report, name: str) -> str:
    files = report.files
    inventory = (
        f"{_plural(files.templates, 'template')}, {files.go_mod} go.mod, "
        f"{files.package_json} package.json"
        + (f", {files.skipped} skipped" if files.skipped else "")
    )
    pr = ""
    if report.diff_base is not None:
        new = sum(1 for f in report.findings if f.new is True and f.suppressed is None)
        pr = (
            f'<p class="meta"><strong>{new} new</strong> against <code>'
            f"{_e(report.diff_base)}</code>; scores are of the full scan.</p>"
        )
    block = report.score
    if block.score is None or block.grade is None:
        verdict = "No score: nothing was weighed"
    else:
        cap = insights.cap_note(block)
        verdict = f"Grade {_e(block.grade)} ({block.score:.1f}/100)" + (
            f' <span class="cap">— {_e(cap)}</span>' if cap else ""
        )
    notice = (
        f'<p class="notice" role="note" id="profile-notice">{_e(report.profile_notice)}</p>'
        if report.profile_notice
        else ""
    )
    lead, command = insights.hidden_parts(report)
    shown_command = f": <code>{_e(command, PATH_CHARS)}</code>" if command else ""
    hidden = f'<p class="meta" id="hidden-note">{_e(lead)}{shown_command}</p>'
    found = insights.nothing_found_parts(report)
    nothing = (
        f'<p class="notice" role="alert" id="nothing-found"><strong>{_e(found[0], PATH_CHARS)}'
        f"</strong> {_e(found[1])}</p>"
        if found
        else ""
    )
    return (
        '<header class="top">'
        f'<p class="tool">archreview {_e(report.tool_version)}</p>'
        f'<h1>Architecture review of <span id="root-name">{_e(name)}</span></h1>'
        f"{nothing}"
        f'<p class="verdict" id="verdict">{verdict}</p>'
        f'<p class="meta" id="profile-line">{_e(insights.profile_line(report), PATH_CHARS)}</p>'
        f"{notice}"
        f'<p class="meta"><span class="mono">{_e(report.root, PATH_CHARS)}</span> · '
        f"{inventory}</p>{pr}{hidden}</header>"
    )


def _grade_class(grade: str | None) -> str:
    return f"g-{grade}" if grade in ("A", "B", "C", "D", "F") else "g-N"


def _summary(report: Report) -> str:
    block = report.score
    counts = dict(report.counts)
    total = sum(counts.get(s.value, 0) for s in Severity)
    score = "n/a" if block.score is None else f"{block.score:.1f}"
    grade = _e(block.grade) if block.grade else "&ndash;"
    cap_text = insights.cap_note(block)
    cap = f'<span class="cap-note">{_e(cap_text)}</span>' if cap_text else ""
    card = (
        '<div class="panel grade-card" id="grade" '
        f'data-grade="{_e(block.grade or "")}" data-score="{_e(score)}">'
        f'<span class="grade-letter {_grade_class(block.grade)}" aria-hidden="true">{grade}</span>'
        f'<div><span class="vh">Grade {grade}, </span>'
        f'<span class="grade-score">{score}<small> / 100</small></span>'
        f'<span class="grade-note">{_plural(block.evaluated, "evaluation")}, '
        f"{block.failed} failed</span>{cap}</div></div>"
    )
    items = "".join(
        f'<div class="c-{s.value}" data-count="{s.value}"><dt>{_SEVERITY_LABEL[s]}</dt>'
        f"<dd>{counts.get(s.value, 0)}</dd></div>"
        for s in Severity
    )
    suppressed = counts.get("suppressed", 0)
    counts_html = (
        '<div class="panel"><h2 id="counts-h">'
        f'<span id="total-findings">{_plural(total, "finding")}</span></h2>'
        f'<dl class="counts" id="counts" aria-labelledby="counts-h">{items}'
        f'<div data-count="suppressed"><dt>Suppressed</dt><dd>{suppressed}</dd></div></dl></div>'
    )
    top = insights.movers(report, limit=3)
    if top:
        rows = "".join(f"<li>{_mover(m)}</li>" for m in top)
        movers = (
            f'<div class="panel movers"><h2>What moved the score most</h2><ol>{rows}</ol></div>'
        )
    else:
        movers = '<div class="panel movers"><h2>What moved the score most</h2><p>Nothing failed.</p></div>'
    return (
        '<section class="summary" aria-label="Summary">'
        + card
        + counts_html
        + movers
        + "</section>"
    )


def _mover(m: insights.Mover) -> str:
    return (
        f'<span class="pts">&minus;{m.points:.1f}</span> <span class="mono">{_e(m.rule_id)}</span> '
        f'{_e(m.subject)} <span class="where mono">{_path(m.where)}</span>'
    )


def _layers(report: Report) -> str:
    head = (
        '<section class="panel" aria-labelledby="layers-h"><h2 id="layers-h">Scores by layer</h2>'
    )
    if not report.layers:
        return head + "<p>Nothing was evaluated.</p></section>"
    moved = insights.layer_movers(report, limit=1)
    rows = []
    for layer, block in report.layers:
        score = "n/a" if block.score is None else f"{block.score:.1f}"
        width = 0.0 if block.score is None else max(0.0, min(100.0, block.score))
        top = moved.get(layer, ())
        by = _mover(top[0]) if top else "&ndash;"
        cap_text = insights.cap_note(block)
        cap = f'<span class="cap">{_e(cap_text)}</span>' if cap_text else ""
        rows.append(
            f'<tr data-layer="{_e(layer)}"><th scope="row">{_e(layer)}'
            f'<span class="lbl">{_e(report.layer_label(layer, ""))}</span></th>'
            '<td class="bar"><svg viewBox="0 0 100 10" preserveAspectRatio="none" '
            'aria-hidden="true" focusable="false"><rect class="track" width="100" height="10" '
            f'rx="2"/><rect class="{_grade_class(block.grade)}" width="{width:.1f}" height="10" '
            'rx="2"/></svg></td>'
            f'<td class="num">{score}</td>'
            f'<td><span class="badge {_grade_class(block.grade)}">{block.grade or "&ndash;"}</span>'
            f"{cap}</td>"
            f'<td class="num">{block.failed}/{block.evaluated}</td>'
            f'<td class="by">{by}</td></tr>'
        )
    return (
        head + '<table class="layers"><thead><tr><th scope="col">Layer</th>'
        '<th scope="col"><span class="vh">Bar</span></th><th scope="col" class="num">Score</th>'
        '<th scope="col">Grade</th><th scope="col" class="num">Failed</th>'
        '<th scope="col">Moved most by</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></section>"
    )


_CELL_W, _CELL_H, _HEAD_H, _GAP = 50, 30, 28, 3


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else "…" + value[-(limit - 1) :]


def _map(report: Report) -> str:
    head = (
        '<section class="panel" aria-labelledby="map-h"><h2 id="map-h">Modules &times; layers</h2>'
    )
    layers = [layer for layer, _ in report.layers]
    modules: tuple[ModuleSummary, ...] = report.modules
    if not modules or not layers:
        return head + "<p>No module was scored.</p></section>"
    names = [_visible(m.name) for m in modules]
    longest = max(len("(repository root)" if n == "." else n) for n in names)
    limit = 34
    label_w = int(min(limit, max(longest, 6)) * 7.4) + 16
    columns = ["ALL", *layers]
    width = label_w + len(columns) * (_CELL_W + _GAP) + 2
    height = _HEAD_H + len(modules) * (_CELL_H + _GAP) + 2
    out = [
        f'<p class="hint">Select a cell to list its findings below.</p>'
        f'<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-labelledby="map-h map-desc">'
        '<desc id="map-desc">Each row is a module, each column a layer (ALL: the whole '
        "module); a cell shows the module's score in that layer, coloured by grade. "
        "Empty cells: nothing of the module was evaluated in that layer.</desc>"
    ]
    for i, column in enumerate(columns):
        x = label_w + i * (_CELL_W + _GAP) + _CELL_W / 2
        label = "All layers" if column == "ALL" else insights.layer_label(column)
        out.append(
            f'<text class="colhead" x="{x:.0f}" y="{_HEAD_H - 10}" text-anchor="middle">'
            f"{_e(column)}<title>{_e(label)}</title></text>"
        )
    sep_x = label_w + _CELL_W + _GAP / 2
    out.append(f'<line class="sep" x1="{sep_x:.1f}" y1="4" x2="{sep_x:.1f}" y2="{height - 2}"/>')
    for row, (module, name) in enumerate(zip(modules, names, strict=True)):
        shown = "(repository root)" if name == "." else name
        y = _HEAD_H + row * (_CELL_H + _GAP)
        out.append(
            f'<text class="rowhead" x="{label_w - 10}" y="{y + _CELL_H / 2 + 4:.0f}" '
            f'text-anchor="end">{_e(_clip(shown, limit))}<title>{_e(name)}</title></text>'
        )
        cells: list[tuple[str, ScoreBlock | None]] = [("ALL", module.score)]
        by_layer = dict(module.layers)
        cells += [(layer, by_layer.get(layer)) for layer in layers]
        for i, (layer, block) in enumerate(cells):
            x = label_w + i * (_CELL_W + _GAP)
            out.append(_cell(module.name, layer, block, x, y))
    out.append("</svg>")
    legend = "".join(
        f'<li><span class="{_grade_class(g)}"></span>{label}</li>'
        for g, label in (
            ("A", "A ≥ 90"),
            ("B", "B ≥ 80"),
            ("C", "C ≥ 70"),
            ("D", "D ≥ 60"),
            ("F", "F < 60"),
            (None, "no score"),
        )
    )
    return head + "".join(out) + f'<ul class="legend" aria-label="Grades">{legend}</ul></section>'


def _cell(module: str, layer: str, block: ScoreBlock | None, x: int, y: int) -> str:
    if block is None or block.evaluated == 0:
        return (
            f'<rect class="empty" x="{x + 1}" y="{y + 1}" width="{_CELL_W - 2}" '
            f'height="{_CELL_H - 2}" rx="4"/>'
        )
    score = "n/a" if block.score is None else f"{block.score:.1f}"
    what = "all layers" if layer == "ALL" else insights.layer_label(layer)
    cap = insights.cap_note(block)
    label = (
        f"{_visible(module)}, {what}: score {score}"
        + (f", grade {block.grade}" if block.grade else "")
        + (f" ({cap})" if cap else "")
        + f", {block.failed} of {block.evaluated} evaluations failed. Show its findings."
    )
    data_layer = "" if layer == "ALL" else layer
    return (
        f'<g class="cell" role="button" tabindex="0" data-module="{_e(module)}" '
        f'data-layer="{_e(data_layer)}" aria-label="{_e(label)}">'
        f'<rect class="{_grade_class(block.grade)}" x="{x}" y="{y}" width="{_CELL_W}" '
        f'height="{_CELL_H}" rx="4"/><text x="{x + _CELL_W / 2:.0f}" y="{y + _CELL_H / 2 + 4:.0f}" '
        f'text-anchor="middle">{score}</text><title>{_e(label)}</title></g>'
    )


def _options(values: Iterable[tuple[str, str]], everything: str) -> str:
    opts = [f'<option value="">{everything}</option>']
    opts += [f'<option value="{_e(v)}">{_e(label)}</option>' for v, label in values]
    return "".join(opts)


def _findings(report: Report, live: list[Finding]) -> str:
    counts = {s: sum(1 for f in live if f.severity == s) for s in Severity}
    pr_mode = report.diff_base is not None or any(f.new is not None for f in live)
    sev_buttons = "".join(
        f'<button type="button" class="s-{s.value}" data-severity-filter="{s.value}" '
        f'aria-pressed="false">{_SEVERITY_LABEL[s]}<span class="n">{counts[s]}</span></button>'
        for s in Severity
    )
    layer_ids = sorted(
        {f.layer for f in live},
        key=lambda la: (list(LAYER_LABELS).index(la) if la in LAYER_LABELS else 99, la),
    )
    layers = _options(((la, insights.layer_label(la)) for la in layer_ids), "All layers")
    module_names = sorted({m.name for m in report.modules} | {f.module for f in live})
    modules = _options(
        ((m, "(repository root)" if m == "." else m) for m in module_names), "All modules"
    )
    new_box = (
        '<label><span>PR mode</span><span><input type="checkbox" id="filter-new"> '
        "New only</span></label>"
        if pr_mode
        else ""
    )
    toolbar = (
        '<div class="toolbar" role="group" aria-label="Filter the findings">'
        '<div class="lbl" role="group" aria-labelledby="sev-lbl"><span id="sev-lbl">Severity'
        f'</span><div class="sevs">{sev_buttons}</div></div>'
        f'<label for="filter-layer">Layer<select id="filter-layer">{layers}</select></label>'
        f'<label for="filter-module">Module<select id="filter-module">{modules}</select></label>'
        '<label for="filter-text">Search<input type="search" id="filter-text" '
        'placeholder="rule, resource, file…" autocomplete="off"></label>'
        f"{new_box}"
        '<button type="button" id="filter-reset">Reset filters</button>'
        '<button type="button" id="toggle-all" aria-pressed="false">Expand all</button>'
        "</div>"
    )
    bodies = [_finding(i, f, pr_mode) for i, f in enumerate(live, 1)]
    empty_text = "No findings." if not live else "No finding matches these filters."
    return (
        '<section class="panel" id="findings" aria-labelledby="findings-h">'
        f'<h2 id="findings-h" tabindex="-1">Findings ({len(live)})</h2>'
        + toolbar
        + f'<p id="filter-status" role="status" aria-live="polite">Showing {len(live)} of '
        f"{_plural(len(live), 'finding')}.</p>"
        '<table class="findings" id="findings-table">'
        '<caption class="vh">Findings; select a title to open its decision record and '
        "source.</caption><thead><tr>"
        '<th scope="col">Severity</th><th scope="col">Finding</th>'
        '<th scope="col">Module</th><th scope="col">Layer</th><th scope="col">Where</th>'
        '<th scope="col" class="num" aria-sort="none"><button type="button" class="sort" '
        'id="sort-score" aria-describedby="sort-help">Score</button>'
        '<span class="vh" id="sort-help">Sorts by score: descending, ascending, then back to '
        "severity order.</span></th></tr></thead>"
        + "".join(bodies)
        + f'<tbody id="no-match"{"" if not live else " hidden"}><tr><td colspan="6">'
        f"{empty_text}</td></tr></tbody></table></section>"
    )


def _finding(index: int, f: Finding, pr_mode: bool) -> str:
    fid = f"f-{index}"
    names = ".".join(n for n in (f.resource, f.property) if n)
    subject = f'<span class="subj mono">{_e(names)}</span>' if names else ""
    new = '<span class="new">NEW</span>' if f.new is True else ""
    row = (
        '<tr class="row">'
        f'<td><span class="sev s-{f.severity.value}">{f.severity.value}</span>{new}</td>'
        f'<td><button type="button" class="toggle" aria-expanded="true" '
        f'aria-controls="{fid}-detail"><span class="rule">{_e(f.rule_id)}</span>'
        f"{_e(f.title)}</button>{subject}</td>"
        f'<td class="mod mono">{_e(f.module)}</td>'
        f'<td><abbr title="{_e(LAYER_LABELS.get(f.layer, f.layer))}">{_e(f.layer)}</abbr></td>'
        f'<td class="loc mono">{_path(f.file, f.line)}</td>'
        f'<td class="num">{f.score:.1f}</td></tr>'
    )
    detail = f'<tr class="detail" id="{fid}-detail"><td colspan="6">{_detail(f)}</td></tr>'
    attrs = (
        f'class="finding s-{f.severity.value}" id="{fid}" data-severity="{f.severity.value}" '
        f'data-layer="{_e(f.layer)}" data-module="{_e(f.module)}" data-score="{f.score:.2f}" '
        f'data-order="{index}"'
    )
    if pr_mode:
        attrs += f' data-new="{"true" if f.new is True else "false"}"'
    return f"<tbody {attrs}>{row}{detail}</tbody>"


def _source(f: Finding) -> str:
    parts = finding_excerpt(f.source, f.line, f.column, f.end_line, f.end_column)
    if parts is None:
        return ""
    caption = f"<figcaption>{_e(f.file)}, line {f.line}</figcaption>"
    before, marked, after = parts
    label = f.property or f.resource or ""
    gutter = str(f.line)
    pad = " " * len(gutter)
    caret_pad = " " * display_width(before)
    carets = "^" * max(1, display_width(marked))
    code = (
        f'<span class="ln">{gutter} | </span>{html.escape(before)}<mark>{html.escape(marked)}</mark>'
        f"{html.escape(after)}\n"
        f'<span class="ln">{pad} | </span><span class="caret" aria-hidden="true">'
        f"{caret_pad}{carets} {_e(label)}</span>"
    )
    return f'<figure class="source">{caption}<pre><code>{code}</code></pre></figure>'


def _detail(f: Finding) -> str:
    facts: list[tuple[str, str]] = []
    if f.resource:
        kind = f" ({_e(f.resource_type)})" if f.resource_type else ""
        facts.append(("Resource", f'<span class="mono">{_e(f.resource)}</span>{kind}'))
    if f.property:
        facts.append(("Property", f'<span class="mono">{_e(f.property)}</span>'))
    facts.append(
        (
            "Where",
            f'<span class="mono">{_e(f.file)}:{f.line}:{f.column}</span> in module '
            f'<span class="mono">{_e(f.module)}</span>',
        )
    )
    facts.append(
        (
            "Scored",
            f"{f.severity.value} &times; {f.confidence.value} confidence = {f.score:.1f} "
            f"({_e(insights.layer_label(f.layer))})",
        )
    )
    if f.persona is not Persona.REGULAR:
        facts.append(("Persona", _e(f.persona.value)))
    related, more = insights.related_shown(f)
    for rel in related:
        what = insights.related_subject(rel)
        facts.append(
            (
                "Related",
                f'<span class="mono">{_path(rel.file, rel.line)}</span>'
                + (f' <span class="mono">{_e(what)}</span>' if what else "")
                + (f" &mdash; {_e(rel.message)}" if rel.message else ""),
            )
        )
    if more:
        facts.append(("Related", f"+{more} more"))
    facts.append(("Fingerprint", f'<span class="mono">{_e(f.fingerprint)}</span>'))
    facts_html = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    refs = []
    for ref in f.adr.references:
        url = _safe_url(ref.url)
        text = _e(ref.title or ref.url)
        if url is not None:
            refs.append(f'<li><a href="{_e(url)}" rel="noopener noreferrer">{text}</a></li>')
        else:
            refs.append(f'<li><span class="mono">{_e(ref.url)}</span></li>')
    decision = insights.decision_title(f.rule_id, f.title)
    adr = (
        f'<article class="adr" aria-label="Decision record for {_e(f.rule_id)}">'
        f"<h3>Decision: {_e(decision)}</h3>"
        f"<h4>Context and problem</h4>{_paragraphs(f.adr.context)}"
        f"<h4>Decision</h4>{_paragraphs(f.adr.decision)}{_fix(f)}"
        f"<h4>Consequences</h4>{_paragraphs(f.adr.consequences)}"
        + (f"<h4>References</h4><ul>{''.join(refs)}</ul>" if refs else "")
        + "</article>"
    )
    main = (
        f'<div><p class="message">{_e(f.message)}</p>{_source(f)}'
        f'<dl class="facts">{facts_html}</dl></div>'
    )
    return f'<div class="detail-grid">{main}{adr}</div>'


def _fix(f: Finding) -> str:
    """The finding's fix under its decision: safety and description, then a diff of its edits
    (file names and hunk headers in the gutter style, removed lines in `del`, added in `ins`)."""
    if f.fix is None or not f.fix.edits:
        return ""
    out: list[str] = []
    current = None
    for hunk in hunks(f.fix, f.source, f.line):
        if hunk.file != current:
            current = hunk.file
            out.append(f'<span class="ln">{_e(visible(hunk.file), PATH_CHARS + 64)}</span>')
        for d in diff_lines(hunk):
            line = html.escape(d.text)  # visible() already clipped it and showed hidden characters
            if d.kind == "@":
                out.append(f'<span class="ln">{line}</span>')
            elif d.kind == "-":
                out.append(f"<del>-{line}</del>")
            elif d.kind == "+":
                out.append(f"<ins>+{line}</ins>")
            else:
                out.append(f" {line}")
    safety = _e(f.fix.safety.value)
    return (
        f"<h4>Fix ({safety})</h4><p>{_e(f.fix.description)}</p>"
        f'<figure class="source"><figcaption>The edits, as a diff</figcaption>'
        f"<pre><code>{chr(10).join(out)}</code></pre></figure>"
    )


def _accepted(findings: list[Finding]) -> str:
    if not findings:
        return ""
    rows = "".join(
        "<tr>"
        f'<td class="mono">{_e(f.rule_id)}</td>'
        f'<td class="mono">{_e(f.file)}:{f.line}</td>'
        f'<td class="mono">{_e(f.resource) if f.resource else "&ndash;"}</td>'
        f'<td><span class="sev s-{f.severity.value}">{f.severity.value}</span></td>'
        f"<td>{_e(insights.suppression_note(f))}</td></tr>"
        for f in findings
    )
    return (
        '<section class="panel" id="accepted" aria-labelledby="accepted-h">'
        f'<h2 id="accepted-h">Accepted risks ({len(findings)})</h2>'
        "<p>Suppressed findings cost nothing in the scores; each stands for a decision to "
        "accept the risk.</p>"
        '<table><thead><tr><th scope="col">Rule</th><th scope="col">Where</th>'
        '<th scope="col">Resource</th><th scope="col">Severity</th>'
        f'<th scope="col">Decision</th></tr></thead><tbody>{rows}</tbody></table></section>'
    )


def _decisions(groups: tuple[insights.DecisionGroup, ...], anchors: dict[int, str]) -> str:
    """The first few decision groups: severity, rule and title; how many and where (each place
    links to its finding below); the decision in one sentence."""
    head = (
        '<section class="panel" id="decisions" aria-labelledby="decisions-h">'
        '<h2 id="decisions-h">Decisions to take</h2>'
    )
    shown = groups[: insights.DECISIONS_SHOWN]
    if not shown:
        return head + "<p>None: no unsuppressed finding.</p></section>"
    items = []
    for g in shown:
        places = ", ".join(_decision_place(f, anchors) for f in g.where())
        more = f", +{g.more} more" if g.more else ""
        decide = (
            f'<span class="decide"><strong>Decide:</strong> {_e(g.decision)}</span>'
            if g.decision
            else ""
        )
        items.append(
            f'<li class="s-{g.severity.value}" data-rule="{_e(g.rule_id)}">'
            f'<span class="head"><span class="sev">{g.severity.value}</span>'
            f'<span class="rule">{_e(g.rule_id)}</span>{_e(g.title)}</span>'
            f'<span class="places">{_plural(g.count, "finding")}: {places}{more}</span>'
            f"{decide}</li>"
        )
    rest = len(groups) - len(shown)
    tail = (
        f'<p>{rest} more in the <a href="#rules-summary">summary by rule</a>.</p>' if rest else ""
    )
    return head + f'<ol class="decisions">{"".join(items)}</ol>{tail}</section>'


def _decision_place(f: Finding, anchors: dict[int, str]) -> str:
    label = f'<span class="mono">{_path(f.file, f.line)}</span>' + (
        f' <span class="mono">{_e(f.resource)}</span>' if f.resource else ""
    )
    anchor = anchors.get(id(f))
    return f'<a href="#{anchor}">{label}</a>' if anchor else label


def _rule_summary(groups: tuple[insights.DecisionGroup, ...]) -> str:
    """One row per rule (and title): rule, count, severity, title."""
    if not groups:
        return ""
    total = sum(g.count for g in groups)
    rules = len({g.rule_id for g in groups})
    rows = "".join(
        f'<tr data-rule="{_e(g.rule_id)}"><td class="mono">{_e(g.rule_id)}</td>'
        f'<td class="num">{g.count}</td>'
        f'<td><span class="sev s-{g.severity.value}">'
        f"{_e(insights.severity_label(g.severities))}</span></td>"
        f'<td class="title">{_e(g.title)}</td></tr>'
        for g in groups
    )
    return (
        '<section class="panel" id="rules-summary" aria-labelledby="rules-h">'
        f'<h2 id="rules-h">Summary by rule ({_plural(rules, "rule")}, '
        f"{_plural(total, 'finding')})</h2>"
        '<table class="rules"><thead><tr><th scope="col">Rule</th>'
        '<th scope="col" class="num">Count</th><th scope="col">Severity</th>'
        f'<th scope="col">Title</th></tr></thead><tbody>{rows}</tbody></table></section>'
    )
