"""Small self-contained HTML pages (no scripts, no external assets) for galleries and reports.

Links are relative to the page so a report folder can be moved or served as it is.
"""
from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from pathlib import Path

STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;background:#fafafa;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}
th{background:#eee}td.l,th.l{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:16px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;max-width:100%}
.card video{display:block;max-width:100%}
.ok{color:#1a7f37;font-weight:600}.fail{color:#c62828;font-weight:600}
img.plot{max-width:100%;border:1px solid #ddd;background:#fff}
"""


def esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def fmt(x: object, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return "–" if math.isnan(x) else f"{x:.{digits}f}"
    return esc(x)


def rel(target: str | os.PathLike, page: str | os.PathLike) -> str:
    """``target`` as a URL relative to the folder of ``page``."""
    return Path(os.path.relpath(Path(target).resolve(), Path(page).resolve().parent)).as_posix()


def table(header: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> str:
    """An HTML table; the first ``left`` columns are left-aligned (labels)."""
    def cells(tag: str, values: Sequence[object]) -> str:
        return "".join(f'<{tag}{" class=l" if j < left else ""}>{v if tag == "th" else fmt(v)}</{tag}>'
                       for j, v in enumerate(values))
    head = f"<tr>{cells('th', [esc(h) for h in header])}</tr>"
    return "<table>" + head + "".join(f"<tr>{cells('td', r)}</tr>" for r in rows) + "</table>"


def video_card(video: str, title: str, metrics: dict[str, object], size: tuple[int, int] | None = None,
               poster: str | None = None) -> str:
    """A card with an inline H.264 video (``video``, ``poster``: relative URLs) and its metrics."""
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    if poster:
        dims += f' poster="{esc(poster)}"'
    success = metrics.get("success")
    badge = ""
    if isinstance(success, (int, float)) and not math.isnan(float(success)):
        badge = '<span class="ok">success</span>' if success >= 0.5 else '<span class="fail">failure</span>'
    rows = [(k, v) for k, v in metrics.items()]
    return (f'<div class="card"><div><b>{esc(title)}</b> {badge}</div>'
            f'<video controls muted preload="metadata" src="{esc(video)}"{dims}></video>'
            f'<a href="{esc(video)}">{esc(Path(video).name)}</a>{table(["metric", "value"], rows)}</div>')


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f'<link rel="icon" href="data:,"><style>{STYLE}</style></head>'
            f"<body><h1>{esc(title)}</h1>{body}</body></html>\n")

