"""The evaluation report: one HTML page with the curve plot, per-episode-index tables and videos."""
from __future__ import annotations

from pathlib import Path

from embodied.atomic import write_atomic
from embodied.replay.html import esc, fmt, page, table, video_card

_LABELS = {"success": "success", "spl": "SPL", "soft_spl": "soft-SPL", "episode_length": "length"}
_INTEGERS = ("episode_length", "steps_to_goal", "return")  # shown with one decimal


def _ci(s: dict | None, digits: int = 3) -> str:
    if not s or s.get("n", 0) == 0:
        return "–"
    return f"{fmt(s['mean'], digits)} [{fmt(s['lo'], digits)}, {fmt(s['hi'], digits)}]"


def curve_table(result: dict) -> str:
    """Rows: episode index within the trial; cells: mean [95% CI]."""
    curve = result["curve"]
    # the house's columns first, in their usual order, then whatever else the env reports
    columns = [m for m in _LABELS if m in curve] + sorted(m for m in curve if m not in _LABELS)
    n = len(next(iter(curve.values()))) if curve else 0
    rows = []
    for e in range(n):
        cells = [_ci(curve[m][e], 1 if m in _INTEGERS else 3) for m in columns]
        rows.append([str(e + 1), *cells, str(curve[columns[0]][e]["n"]) if columns else "–"])
    overall = result["overall"]
    rows.append(["all", *[_ci(overall.get(m), 1 if m in _INTEGERS else 3) for m in columns], str(result["episodes"])])
    return table(["episode", *[_LABELS.get(m, m.replace("_", " ")) for m in columns], "n"], rows)


def write_report(out: Path, metrics: dict) -> Path:
    """Write ``out/report.html`` from the ``metrics.json`` content (links are relative)."""
    agent = metrics["agent"]
    parts = [f"<p>{esc(metrics['trials'])} trials × {esc(metrics['episodes'])} episodes on unseen "
             f"<b>{esc(metrics['split'])}</b> houses"
             + (f"; the first {esc(metrics['fewshot'])} episodes of each trial by the oracle (few-shot)"
                if metrics.get("fewshot") else "")
             + f"; {esc(metrics['seconds'])} s. Mean [95% confidence interval] per episode index within the trial."
             " Data: <a href=\"metrics.json\">metrics.json</a>, <a href=\"episodes.jsonl\">episodes.jsonl</a>.</p>",
             f'<h2>In-context curve</h2><img class="plot" id="curve" src="{esc(metrics["plot"])}" '
             f'alt="in-context learning curve">']
    for name, result in metrics["policies"].items():
        role = "agent" if name == agent else "reference"
        parts.append(f"<h2>{esc(name)} <small>({role})</small></h2>{curve_table(result)}")
    if metrics.get("videos"):
        cards = []
        for v in metrics["videos"]:
            shown = {k: v["metrics"][k] for k in ("success", "spl", "soft_spl", "episode_length")
                     if k in v["metrics"]}
            cards.append(video_card(v["video"], Path(v["episode"]).stem, shown, size=tuple(v["size"]),
                                    poster=v.get("poster")))
        parts.append(f'<h2>Episodes of {esc(agent)}</h2><div class="cards">{"".join(cards)}</div>')
    return write_atomic(out / "report.html", page(f"Evaluation: {agent} on {metrics['split']} houses",
                                                  "".join(parts)))
