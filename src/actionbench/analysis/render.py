"""Render report sections as one self-contained HTML page and as Markdown, from the same blocks.

HTML: plain ``<table>`` elements (multi-level headers as colspan/rowspan), images embedded as
base64 PNG data URIs, no script, no external resource — the page opens anywhere, offline.
Markdown: the same tables with flattened headers (``a · b``), images linked from ``figures/``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from actionbench.analysis.tables import Table

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1240px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
h1{border-bottom:2px solid #333}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:top}
th{background:#f0f0f0}thead th{text-align:center}tbody th{text-align:left;font-weight:normal;background:#fafafa}
td:first-child{text-align:left}td.text{text-align:left;min-width:7em}td.num{white-space:nowrap}
.note{color:#444;font-size:13px}.missing{color:#666;font-style:italic}
.flags{background:#fff6e0;border-left:4px solid #e0a000;padding:.4em .8em;font-size:13px}
.flags li{margin:.2em 0}
img{max-width:100%}figure{margin:1em 0}figcaption{font-size:13px;color:#444}
details{margin:.3em 0}summary{cursor:pointer}pre{background:#f6f6f6;padding:.6em;
overflow-x:auto;font-size:12px}nav ul{columns:2}
.scroll{overflow-x:auto;max-width:100%}
.findings{font-size:15px}.findings li{margin:.35em 0}
.legend span.swatch{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 .9em;
border:1px solid #333;vertical-align:middle}.legend{font-size:13px}
.flaglink{font-size:13px;color:#8a5a00}
"""


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


# --------------------------------------------------------------------------- tables


def _label(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _col_tuples(frame: pd.DataFrame) -> list[tuple]:
    if isinstance(frame.columns, pd.MultiIndex):
        return [tuple(_label(v) for v in c) for c in frame.columns]
    return [(_label(c),) for c in frame.columns]


def _row_tuples(frame: pd.DataFrame) -> list[tuple]:
    if isinstance(frame.index, pd.MultiIndex):
        return [tuple(_label(v) for v in r) for r in frame.index]
    return [(_label(r),) for r in frame.index]


def _index_names(frame: pd.DataFrame) -> list[str]:
    return [_label(n) for n in frame.index.names]


# a number, a percentage, a CI "[+1.2, +3.4]", a dash: kept on one line; other cells wrap
NUMBER = re.compile(r"[-+−–]?[\d.,]+(e[-+]?\d+)?%?|\[[-+−\d., ]+\]|–|[<>≤≥]\s?[\d.e-]+")


def _cell(text: str) -> str:
    """A body cell: numbers stay on one line, long prose gets a readable width, the rest wraps
    so that a table fits the page instead of widening it."""
    cls = ' class="num"' if NUMBER.fullmatch(text) else (' class="text"' if len(text) > 40 else "")
    return f"<td{cls}>{html.escape(text)}</td>"


def table_html(frame: pd.DataFrame) -> str:
    """A display frame (strings) as an HTML table; equal neighbouring labels are merged."""
    cols = _col_tuples(frame)
    rows = _row_tuples(frame)
    n_col_levels = len(cols[0]) if cols else 1
    n_idx = len(rows[0]) if rows else len(_index_names(frame))
    head = []
    for level in range(n_col_levels):
        cells = []
        if level == 0:
            for name in _index_names(frame):
                cells.append(f'<th rowspan="{n_col_levels}">{html.escape(name)}</th>')
        i = 0
        while i < len(cols):
            j = i + 1
            while j < len(cols) and cols[j][: level + 1] == cols[i][: level + 1]:
                j += 1
            span = f' colspan="{j - i}"' if j - i > 1 else ""
            cells.append(f"<th{span}>{html.escape(cols[i][level])}</th>")
            i = j
        head.append("<tr>" + "".join(cells) + "</tr>")
    body = []
    values = frame.to_numpy()
    for r, row in enumerate(rows):
        cells = []
        for level in range(n_idx):
            prefix = row[: level + 1]
            if r > 0 and rows[r - 1][: level + 1] == prefix:
                continue  # covered by a rowspan above
            span = 1
            while r + span < len(rows) and rows[r + span][: level + 1] == prefix:
                span += 1
            rs = f' rowspan="{span}"' if span > 1 else ""
            cells.append(f"<th{rs}>{html.escape(row[level])}</th>")
        cells += [_cell(_label(v)) for v in values[r]]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table><thead>{"".join(head)}</thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(frame: pd.DataFrame) -> str:
    """The same table in GitHub Markdown (multi-level headers joined with ' · ')."""
    cols = [" · ".join(p for p in c if p) for c in _col_tuples(frame)]
    names = _index_names(frame)
    rows = _row_tuples(frame)
    head = [n or "" for n in names] + cols
    lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    values = frame.to_numpy()
    prev: tuple = ()
    for r, row in enumerate(rows):
        shown = (
            [("" if prev[: i + 1] == row[: i + 1] else row[i]) for i in range(len(row))]
            if prev
            else list(row)
        )
        # keep the first level visible on each row: the run id of flat tables stays greppable
        if len(row) == 1:
            shown = list(row)
        prev = row
        cells = shown + [_label(v) for v in values[r]]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- blocks


class Block:
    def html(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def markdown(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class Text(Block):
    text: str
    css: str = ""

    def html(self) -> str:
        cls = f' class="{self.css}"' if self.css else ""
        return f"<p{cls}>{html.escape(self.text)}</p>"

    def markdown(self) -> str:
        return (f"*{self.text}*" if self.css == "missing" else self.text) + "\n"


@dataclass
class Bullets(Block):
    items: list[str]
    css: str = ""
    heading: str = ""
    anchor: str = ""  # an id other blocks can link to

    def html(self) -> str:
        if not self.items:
            return ""
        cls = f' class="{self.css}"' if self.css else ""
        ident = f' id="{html.escape(self.anchor)}"' if self.anchor else ""
        head = f"<strong>{html.escape(self.heading)}</strong>" if self.heading else ""
        lis = "".join(f"<li>{html.escape(i)}</li>" for i in self.items)
        return f"<div{ident}{cls}>{head}<ul>{lis}</ul></div>"

    def markdown(self) -> str:
        if not self.items:
            return ""
        head = f"**{self.heading}**\n\n" if self.heading else ""
        return head + "".join(f"- {i}\n" for i in self.items)


@dataclass
class TableBlock(Block):
    table: Table
    heading: bool = True

    def _flags_title(self) -> str:
        return (
            "Protocol differences between compared runs (a gap here may come from the "
            "protocol, not the model):"
        )

    def html(self) -> str:
        t = self.table
        out = f'<h3 id="{slug(t.key)}">{html.escape(t.title)}</h3>' if self.heading else ""
        if not t.shown:
            return out + Text(f"Not shown: {t.missing or 'no rows'}.", "missing").html()
        out += "".join(Text(n, "note").html() for n in t.notes)
        out += table_html(t.frame)
        out += Bullets(t.flags, "flags", "⚠ " + self._flags_title(), f"flags-{slug(t.key)}").html()
        return out

    def markdown(self) -> str:
        t = self.table
        out = f"### {t.title}\n\n" if self.heading else ""
        if not t.shown:
            return out + Text(f"Not shown: {t.missing or 'no rows'}.", "missing").markdown()
        out += "".join(f"{n}\n\n" for n in t.notes)
        out += table_markdown(t.frame) + "\n"
        if t.flags:
            out += Bullets(t.flags, heading="⚠ " + self._flags_title()).markdown()
        return out


@dataclass
class Figure(Block):
    """An embedded PNG. ``models``: label -> {color, marker} it draws (styles.py), carried as
    the ``data-models`` attribute; ``flags``: (anchor, title) of the protocol-difference
    group that applies to the runs it compares, linked below the caption."""

    png: Path
    caption: str
    models: dict[str, dict[str, str]] = field(default_factory=dict)
    flags: tuple[str, str] | None = None

    def html(self) -> str:
        data = base64.b64encode(self.png.read_bytes()).decode()
        meta = html.escape(json.dumps(self.models, sort_keys=True), quote=True)
        link = ""
        if self.flags:
            anchor, title = self.flags
            link = (
                f'<div class="flaglink">⚠ The runs compared here differ in protocol: see '
                f'<a href="#{html.escape(anchor)}">{html.escape(title)}</a>.</div>'
            )
        return (
            f'<figure id="fig-{slug(self.png.stem)}" data-models="{meta}">'
            f'<img alt="{html.escape(self.png.stem)}" src="data:image/png;base64,{data}"/>'
            f"<figcaption>{html.escape(self.caption)} ({self._files_html()})</figcaption>"
            f"{link}</figure>"
        )

    def _files(self) -> list[tuple[str, str]]:
        """(label, path relative to the page) of the figure's files beside the report."""
        return [("SVG", f"figures/{self.png.stem}.svg"), ("PNG", f"figures/{self.png.name}")]

    def _files_html(self) -> str:
        return ", ".join(
            f'<a href="{html.escape(path, quote=True)}">{label}</a>'
            for label, path in self._files()
        )

    def markdown(self) -> str:
        files = ", ".join(f"[{label}]({path})" for label, path in self._files())
        out = f"![{self.png.stem}](figures/{self.png.name})\n\n*{self.caption}* ({files})\n"
        if self.flags:  # Markdown has no anchors of ours: name the place instead
            out += f"\n⚠ The runs compared here differ in protocol: see {self.flags[1]}"
            out += (
                " (section Protocol differences).\n"
                if self.flags[0].startswith("protocol-")
                else ".\n"
            )
        return out


@dataclass
class Legend(Block):
    """The models' colours, stated once: the same colour and marker in every figure."""

    models: dict[str, dict[str, str]]

    MARKERS = {"o": "circle", "s": "square", "^": "triangle", "D": "diamond"}

    def _text(self) -> str:
        return (
            "One colour and marker per model (module, backbone, temporal pooling), the same in "
            "every figure; fewer input frames are drawn lighter (bars, points) or with "
            "dashed/dotted lines (curves)."
        )

    def html(self) -> str:
        if not self.models:
            return ""
        items = "".join(
            f'<span class="swatch" style="background:{html.escape(m["color"])}"></span>'
            f'<span data-color="{html.escape(m["color"])}">{html.escape(label)} '
            f"({self.MARKERS.get(m['marker'], m['marker'])})</span>"
            for label, m in self.models.items()
        )
        return f'<p class="legend">{html.escape(self._text())}<br>{items}</p>'

    def markdown(self) -> str:
        if not self.models:
            return ""
        items = ", ".join(
            f"{label}: {m['color']} {self.MARKERS.get(m['marker'], m['marker'])}"
            for label, m in self.models.items()
        )
        return f"{self._text()} {items}.\n"


@dataclass
class Details(Block):
    summary: str
    body: str
    lang: str = ""

    def html(self) -> str:
        return (
            f"<details><summary>{html.escape(self.summary)}</summary>"
            f"<pre>{html.escape(self.body)}</pre></details>"
        )

    def markdown(self) -> str:
        return (
            f"<details><summary>{html.escape(self.summary)}</summary>\n\n"
            f"```{self.lang}\n{self.body}\n```\n\n</details>\n"
        )


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return slug(self.title)


def render_html(title: str, sections: list[Section], subtitle: str = "") -> str:
    toc = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a></li>' for s in sections)
    body = "".join(
        f'<section id="{s.anchor}"><h2>{html.escape(s.title)}</h2>'
        + "".join(b.html() for b in s.blocks)
        + "</section>"
        for s in sections
    )
    sub = f'<p class="note">{html.escape(subtitle)}</p>' if subtitle else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{sub}<nav><ul>{toc}</ul></nav>{body}</body></html>"
    )


def render_markdown(title: str, sections: list[Section], subtitle: str = "") -> str:
    out = f"# {title}\n\n" + (f"{subtitle}\n\n" if subtitle else "")
    for s in sections:
        out += f"## {s.title}\n\n" + "\n".join(b.markdown() for b in s.blocks) + "\n"
    return out
