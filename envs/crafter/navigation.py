"""Path search on the part of the Crafter map the player has seen (breadth-first, 4-connected).

Routes end *facing* a target cell, since every Crafter interaction acts on the cell in front of the
player. Facing a blocked cell (tree, water, a cow) costs a move that only turns; facing a free cell
(grass to place a table on) needs the last step of the route to point at it.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from envs.crafter.world import CrafterWorld

DIRS = {(-1, 0): "move_left", (1, 0): "move_right", (0, -1): "move_up", (0, 1): "move_down"}
Cell = tuple[int, int]


def _passable(world: CrafterWorld, cell: Cell, dig: bool = False) -> bool:
    """Seen, inside the map and free now; with ``dig`` (the player holds a pickaxe) stone counts as free."""
    x, y = cell
    w, h = world.world.area
    if not (0 <= x < w and 0 <= y < h and world.explored[x, y]):
        return False
    return cell == world.pos or world.is_free(cell) or (dig and world.material(cell) == "stone"
                                                         and world.creature(cell) is None)


def can_dig(world: CrafterWorld) -> bool:
    return world.inventory.get("wood_pickaxe", 0) > 0


def _add(a: Cell, b: Cell, k: int = 1) -> Cell:
    return a[0] + k * b[0], a[1] + k * b[1]


def route_to_face(world: CrafterWorld, targets: Iterable[Cell], allow: Callable[[Cell, Cell], bool] | None = None,
                  dig: bool | None = None) -> list[str] | None:
    """Shortest list of actions after which a cell of ``targets`` is in front of the player (None: unreachable).

    Routes may cross stone when the player can dig; the caller mines such cells on the way. ``allow(t, d)``
    restricts from which side ``d`` (the facing direction at the end) a target may be approached."""
    dig = can_dig(world) if dig is None else dig
    goals: dict[Cell, tuple[str, ...]] = {}  # cell to reach -> actions to append there
    for t in targets:
        free = world.is_free(t)
        for d, move in DIRS.items():
            stand = _add(t, d, -1)
            if not _passable(world, stand, dig) or (allow and not allow(t, d)):
                continue
            if stand == world.pos and world.facing == d:
                return []
            if not free:
                goals.setdefault(stand, (move,))  # moving into a blocked cell only turns the player
            else:
                before = _add(stand, d, -1)  # arrive at `stand` by moving along d, then t is in front
                if _passable(world, before, dig):
                    goals.setdefault(before, (move,))
    if not goals:
        return None
    return _bfs(world, lambda c: c in goals, lambda c: goals[c], dig=dig)


def route_to_frontier(world: CrafterWorld, min_dist: int = 1) -> list[str] | None:
    """Route to the nearest seen free cell that borders unseen ground (exploration)."""
    w, h = world.world.area

    def frontier(c: Cell) -> bool:
        return any(0 <= n[0] < w and 0 <= n[1] < h and not world.explored[n]
                   for n in (_add(c, d) for d in DIRS))
    return _bfs(world, frontier, lambda c: (), min_dist=min_dist, dig=can_dig(world))


def _bfs(world: CrafterWorld, is_goal: Callable[[Cell], bool], tail: Callable[[Cell], tuple[str, ...]],
         min_dist: int = 0, dig: bool = False) -> list[str] | None:
    start = world.pos
    parent: dict[Cell, tuple[Cell, str] | None] = {start: None}
    depth = {start: 0}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if depth[cell] >= min_dist and is_goal(cell):
            actions = list(tail(cell))
            while parent[cell] is not None:
                cell, move = parent[cell]
                actions.insert(0, move)
            return actions
        for d, move in DIRS.items():
            nxt = _add(cell, d)
            if nxt not in parent and _passable(world, nxt, dig):
                parent[nxt] = (cell, move)
                depth[nxt] = depth[cell] + 1
                queue.append(nxt)
    return None


def move_delta(action: str) -> Cell:
    return next(d for d, m in DIRS.items() if m == action)
