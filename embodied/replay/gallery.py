"""The HTML gallery of replayed episodes: one card per video with the episode's metrics."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from embodied.atomic import write_atomic
from embodied.replay.html import page, rel, video_card
from embodied.replay.replayer import ReplayResult

SHOWN = ("success", "spl", "soft_spl", "distance_to_goal", "episode_length")
META = ("policy", "trial", "episode_index")


def write_gallery(results: Sequence[ReplayResult], path: str | Path, title: str = "Replayed episodes") -> Path:
    """Write the gallery page at ``path``; videos are linked relative to it."""
    path = Path(path)
    cards = []
    for r in results:
        info = {k: r.metrics[k] for k in SHOWN if k in r.metrics}
        info.update({k: r.meta[k] for k in META if k in r.meta})
        name = r.episode.stem if r.episode else r.video.stem
        cards.append(video_card(rel(r.video, path), name, info, size=(r.width // 2, r.height // 2),
                                poster=rel(r.poster, path) if r.poster else None))
    n_ok = sum(1 for r in results if r.metrics.get("success", 0) >= 0.5)
    body = (f"<p>{len(results)} episodes, {n_ok} successful. Panels: first-person RGB | depth | top-down map "
            "(path, goal instances, attention over past steps when recorded); HUD: step, episode index in the "
            "trial, goal, action, reward.</p>" + f'<div class="cards">{"".join(cards)}</div>')
    return write_atomic(path, page(title, body))
