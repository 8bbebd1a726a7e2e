"""Per-category object silhouettes for the billboard renderer (Numba).

``shade(shape, u, v)`` says what a sprite pixel shows: 0 for transparent, ``+b`` for the primary colour
at brightness ``b``, ``-b`` for the secondary colour. ``u`` runs from -1 (left edge) to 1 (right edge),
``v`` from 0 (floor) to 1 (top of the object).
"""
from __future__ import annotations

import math

from numba import njit

from envs.house.categories import (BALL, BED, BIN, BOX, CABINET, CHAIR, CLOCK, FRIDGE, LAMP, OVEN, PIANO,
                                   PLANT, SCREEN, SHELF, SINK, SOFA, TABLE, TOILET, TUB, VASE, WASHER)


@njit(cache=True, inline="always")
def _round(u):
    return 0.72 + 0.28 * math.sqrt(max(0.0, 1.0 - u * u))


@njit(cache=True)
def shade(shape, u, v):  # noqa: C901 - one branch per silhouette keeps them side by side
    au = abs(u)
    if shape == BOX:
        return 1.0
    if shape == CHAIR:
        if v < 0.45:
            return -0.8 if au > 0.72 else 0.0
        if v < 0.55:
            return 1.0
        return 0.85 if u > 0.45 else 0.0
    if shape == TABLE:
        if v >= 0.86:
            return 1.0
        return -0.9 if au > 0.8 else 0.0
    if shape == SOFA:
        if au >= 0.8:
            return -0.9 if v < 0.65 else 0.0
        return 1.0 if v < 0.5 else 0.82
    if shape == BED:
        if u < -0.75:
            return -1.0
        if v < 0.28:
            return -0.8
        return 1.0 if v < 0.5 else 0.0
    if shape == TOILET:
        if v < 0.5:
            return _round(u) if au < 0.55 + 0.45 * v * 2.0 * (1.0 - v) + 0.2 * v else 0.0
        if v < 0.53:
            return -1.0
        return 0.92 if 0.05 < u < 0.95 else 0.0
    if shape == SCREEN:
        if v < 0.45:
            return -0.9 if au < 0.12 or (v < 0.05 and au < 0.5) else 0.0
        if au > 0.88 or v < 0.5 or v > 0.95:
            return -1.0
        return 1.0 + 0.6 * v * (1.0 - au)
    if shape == PLANT:
        if v < 0.3:
            return -0.9 if au < 0.35 + 0.2 * v / 0.3 else 0.0
        dy = (v - 0.66) * 2.0 * 1.1 / 0.55
        r2 = u * u + dy * dy
        return (0.75 + 0.25 * math.cos(7.0 * u + 11.0 * v)) if r2 < 0.95 else 0.0
    if shape == LAMP:
        if v < 0.04:
            return -0.8 if au < 0.4 else 0.0
        if v < 0.72:
            return -0.9 if au < 0.09 else 0.0
        return 1.0 if au < 0.45 + 0.55 * (1.0 - (v - 0.72) / 0.28) else 0.0
    if shape == FRIDGE:
        if 0.6 <= v < 0.625 or (0.62 < u < 0.72 and 0.66 < v < 0.82):
            return -1.0
        return 0.85 + 0.15 * _round(u)
    if shape == SHELF:
        if au > 0.9 or (v * 5.0) % 1.0 < 0.14:
            return 1.0
        return -(0.6 + 0.4 * ((int((u + 1.0) * 7.0) * 37 + int(v * 5.0) * 11) % 5) / 4.0)
    if shape == TUB:
        if v > 0.82 and au > 0.88:
            return 0.0
        return -1.0 if v > 0.82 else _round(u)
    if shape == SINK:
        if v < 0.68:
            return 0.88 if au < 0.2 else 0.0
        if v > 0.94:
            return -1.0 if au < 0.08 else 0.0
        return _round(u) if au < 0.6 + 1.3 * (v - 0.68) else 0.0
    if shape == OVEN:
        if (au < 0.62 and 0.18 < v < 0.6) or (v > 0.86 and (u * 4.0 + 4.0) % 1.0 < 0.28):
            return -1.0
        return 1.0
    if shape == WASHER:
        dy = (v - 0.45) * 2.0 * 0.85 / 0.6
        r2 = u * u + dy * dy
        if r2 < 0.42:
            return -(0.7 + 0.3 * (r2 / 0.42))
        return 0.8 if r2 < 0.55 else 1.0
    if shape == CABINET:
        if au < 0.04 or (0.1 < au < 0.18 and 0.55 < v < 0.7):
            return -1.0
        return 1.0
    if shape == CLOCK:
        if au > 0.7:
            return 0.0
        dy = (v - 0.82) * 2.0 * 1.9 / 0.4
        if u * u + dy * dy < 0.3:
            return -1.0
        if au < 0.3 and 0.25 < v < 0.6:
            return -0.55
        return 0.9 * _round(u)
    if shape == VASE:
        half = 0.35 + 0.6 * math.sin(math.pi * min(v * 1.25, 1.0))
        if v > 0.8:
            half = 0.35 + 0.25 * (v - 0.8) / 0.2
        return _round(u / half) if au < half else 0.0
    if shape == BIN:
        if au > 0.8 + 0.2 * v:
            return 0.0
        return -1.0 if v > 0.9 else _round(u)
    if shape == PIANO:
        if v < 0.5:
            return -0.9 if au > 0.85 else 0.0
        if 0.5 <= v < 0.62:
            if v > 0.57 and (u * 12.0 + 12.0) % 1.0 < 0.4:
                return 1.0
            return -1.0
        return 1.0
    if shape == BALL:
        dy = 2.0 * v - 1.0
        r2 = u * u + dy * dy
        return (0.6 + 0.4 * math.sqrt(1.0 - r2)) if r2 < 1.0 else 0.0
    return 1.0
