"""Compose one video frame: first-person RGB | depth | top-down map, with a HUD strip below.

Drawing is OpenCV only (fast, no GUI). Panels are square, ``size`` pixels; the HUD strip is
``size // 8`` pixels (even, at least 24) so the frame has the even dimensions H.264 needs.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import cv2
import numpy as np

ACTION_NAMES = ("stop", "forward", "turn left", "turn right", "look up", "look down")
_WHITE, _GREY = (255, 255, 255), (170, 170, 170)
_GREEN, _RED, _YELLOW = (60, 220, 60), (235, 60, 60), (250, 210, 40)


def hud_height(size: int) -> int:
    return max(24, (size // 8) // 2 * 2)


def frame_shape(size: int) -> tuple[int, int, int]:
    return (size + hud_height(size), 3 * size, 3)


def _fit(img: np.ndarray, dst: np.ndarray) -> None:
    """Scale ``img`` into the square view ``dst`` (nearest when enlarging: keeps the agent's pixels).

    Enlarging is done as a nearest resize of the rows to the panel width, then a copy of whole rows into
    ``dst``: the same pixels as a 2-D nearest resize, in ~60% of its time for the 4x RGB and depth panels.
    """
    size = dst.shape[0]
    h, w = img.shape[:2]
    if h == size and w == size:
        dst[:] = img
    elif h < size:
        rows = cv2.resize(img, (size, h), interpolation=cv2.INTER_NEAREST)
        np.take(rows, _nearest_rows(h, size), axis=0, out=dst, mode="clip")
    elif cv2.resize(img, (size, size), dst=dst, interpolation=cv2.INTER_AREA) is not dst:
        raise RuntimeError("OpenCV did not write into the frame buffer")


@functools.cache
def _nearest_rows(rows: int, size: int) -> np.ndarray:
    """Source row of each of ``size`` output rows in OpenCV's nearest-neighbour resize."""
    return (np.arange(size) * rows) // size


# The 'inferno' colour map as an RGB lookup table (applyColorMap with a user table is a plain LUT).
_INFERNO = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], cv2.COLORMAP_INFERNO)[:, :, ::-1].copy()


def depth_image(depth: np.ndarray, max_depth: float) -> np.ndarray:
    """Depth in metres → RGB (near bright, far dark, via the 'inferno' colour map)."""
    d = cv2.min(np.asarray(depth, np.float32).reshape(depth.shape[0], depth.shape[1]), float(max_depth))
    scaled = cv2.convertScaleAbs(d, alpha=-255.0 / max_depth, beta=255.0)  # depth >= 0: no sign flip
    return cv2.applyColorMap(scaled, _INFERNO)


def draw_agent(panel: np.ndarray, path: np.ndarray, heading_deg: float, radius: int) -> None:
    """Path so far (map pixels ``(T, 2)``, last = agent) as a blue polyline, and the agent as a disc with
    a heading tick, in place (heading in degrees from +x towards +y: clockwise on the y-down map)."""
    pts = np.round(path).astype(np.int32).reshape(-1, 1, 2)
    if len(pts) > 1:
        cv2.polylines(panel, [pts], False, (30, 90, 255), max(1, radius // 3), cv2.LINE_AA)
    x, y = (int(v) for v in pts[-1, 0])
    a = np.deg2rad(heading_deg)
    tip = (int(round(x + 1.8 * radius * np.cos(a))), int(round(y + 1.8 * radius * np.sin(a))))
    cv2.circle(panel, (x, y), radius, (20, 20, 20), -1, cv2.LINE_AA)
    cv2.line(panel, (x, y), tip, (20, 20, 20), max(2, radius // 2), cv2.LINE_AA)
    cv2.circle(panel, (x, y), max(1, radius // 2), (255, 255, 255), -1, cv2.LINE_AA)


def draw_attention(panel: np.ndarray, points: np.ndarray, mass: np.ndarray, radius: int) -> None:
    """Mark past positions (map pixels, ``(k, 2)``) by the attention mass they received, in place.

    Disc area and colour grow with the mass relative to the heaviest point (magenta to yellow), so the
    places the agent "looks back" at stand out over the map.
    """
    keep = mass > 0
    if not keep.any():
        return
    points, mass = points[keep], mass[keep]
    rel = mass / mass.max()
    overlay = panel.copy()
    for (x, y), r in sorted(zip(points.tolist(), rel.tolist()), key=lambda t: t[1]):
        colour = (255, int(40 + 200 * r), int(255 * (1 - r)))
        cv2.circle(overlay, (int(round(x)), int(round(y))), max(2, int(radius * (0.35 + 0.65 * r))), colour,
                   -1, cv2.LINE_AA)
    cv2.addWeighted(overlay, 0.75, panel, 0.25, 0.0, dst=panel)


def compose(rgb: np.ndarray, depth: np.ndarray | None, topdown: np.ndarray, hud: Sequence[tuple[str, tuple]],
            size: int = 256, max_depth: float = 10.0, out: np.ndarray | None = None) -> np.ndarray:
    """One frame. ``hud`` is a list of (text, RGB colour) drawn left to right."""
    frame = np.zeros(frame_shape(size), np.uint8) if out is None else out
    _fit(rgb, frame[:size, :size])
    if depth is not None:
        _fit(depth_image(depth, max_depth), frame[:size, size:2 * size])
    else:
        frame[:size, size:2 * size] = 0
    _fit(topdown, frame[:size, 2 * size:])
    strip = frame[size:]
    strip[:] = 24
    scale = hud_height(size) / 64.0
    x, baseline = 6, size // 64 + int(hud_height(size) * 0.68)
    for text, colour in hud:
        cv2.putText(strip, text, (x, baseline), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
        x += cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] + int(16 * scale) + 4
    return frame


def hud_items(step: int, steps: int, episode_index: int, goal: str, action: int, reward: float,
              total: float, outcome: str | None) -> list[tuple[str, tuple]]:
    """The HUD fields: step, episode index in the trial, goal category, action, reward and the outcome
    (``None`` while running, ``"success"`` / ``"failure"`` on the last frame)."""
    items = [(f"step {step + 1}/{steps}", _WHITE), (f"ep {episode_index}", _WHITE),
             (f"goal: {goal}", _YELLOW),
             (f"{ACTION_NAMES[action] if 0 <= action < len(ACTION_NAMES) else action}", _GREY),
             (f"r {reward:+.3f} (sum {total:+.2f})", _WHITE)]
    if outcome is not None:
        items.append((outcome.upper(), _GREEN if outcome == "success" else _RED))
    return items
