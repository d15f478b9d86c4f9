"""Wire routes that go around blocks (Qt-free): orthogonal polylines from an output to an input.

A route leaves the output port to the right and enters the input port from the left. It tries,
in order: a straight line (ports at one height); three segments turning in the gap before the
target (or further left, past whatever is in the way); five segments that run along a free
*track* (a height just above or below some block) between a turn after the source and a turn
before the target. Every segment keeps :data:`CLEAR` away from every block box, except the
short stubs at the two ports, which may touch their own block. Higher input ports turn a
little earlier, so the wires into a Concat stay apart.

:class:`Obstacles` is a spatial hash of block boxes, updated as blocks move.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from builder.layout import Rect

Point = tuple[float, float]
CLEAR = 8.0  # a route keeps this far from every block box
LEAD = 20.0  # ... and runs straight out of an output and into an input at least this long
PORT_LEAD = 7.0  # each further input port turns this much earlier
CELL = 240.0  # the spatial hash's cell size
MAX_CELLS = 4096  # a box or query over more cells than this is scanned, not hashed


class Obstacles:
    """Block boxes by key, with a spatial hash for segment tests.

    A box or a query spanning more than :data:`MAX_CELLS` cells (far-flung coordinates) is
    kept out of the hash and scanned instead, so no size of canvas makes a lookup slow.
    """

    def __init__(self) -> None:
        self.rects: dict[Hashable, Rect] = {}
        self._cells: dict[tuple[int, int], set[Hashable]] = {}
        self._big: set[Hashable] = set()  # boxes too large for the hash

    @staticmethod
    def _range(rect: Rect) -> tuple[int, int, int, int]:
        return (int((rect[0] - CLEAR) // CELL), int((rect[1] - CLEAR) // CELL),
                int((rect[2] + CLEAR) // CELL), int((rect[3] + CLEAR) // CELL))

    @classmethod
    def _span(cls, rect: Rect) -> Iterable[tuple[int, int]] | None:
        """The cells ``rect`` touches, or None when they are too many to list."""
        x0, y0, x1, y1 = cls._range(rect)
        if (x1 - x0 + 1) * (y1 - y0 + 1) > MAX_CELLS:
            return None
        return ((i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1))

    def put(self, key: Hashable, rect: Rect) -> bool:
        """Add or move ``key``'s box; True when it changed."""
        old = self.rects.get(key)
        if old == rect:
            return False
        self.remove(key)
        self.rects[key] = rect
        cells = self._span(rect)
        if cells is None:
            self._big.add(key)
            return True
        for cell in cells:
            self._cells.setdefault(cell, set()).add(key)
        return True

    def remove(self, key: Hashable) -> bool:
        rect = self.rects.pop(key, None)
        if rect is None:
            return False
        cells = self._span(rect)
        if cells is None:
            self._big.discard(key)
            return True
        for cell in cells:
            keys = self._cells.get(cell)
            if keys is not None:
                keys.discard(key)
        return True

    def clear(self) -> None:
        self.rects.clear()
        self._cells.clear()
        self._big.clear()

    def near(self, area: Rect) -> set[Hashable]:
        """Keys whose boxes may touch ``area`` (a superset)."""
        cells = self._span(area)
        if cells is None:
            return set(self.rects)
        found = set(self._big)
        for cell in cells:
            found |= self._cells.get(cell, set())
        return found

    def hit(self, a: Point, b: Point, ignore: tuple[Hashable, ...] = (),
            clear: float = CLEAR) -> Hashable | None:
        """A box the axis-parallel segment ``a``–``b`` passes within ``clear`` of (None: free)."""
        seg = (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
        for key in self.near(seg):
            if key in ignore:
                continue
            r = self.rects[key]
            if (seg[0] < r[2] + clear and seg[2] > r[0] - clear
                    and seg[1] < r[3] + clear and seg[3] > r[1] - clear):
                return key
        return None


def simplify(points: list[Point]) -> list[Point]:
    """Drop repeated points and the middle of three points on one line."""
    out: list[Point] = []
    for p in points:
        if out and abs(p[0] - out[-1][0]) < 1e-6 and abs(p[1] - out[-1][1]) < 1e-6:
            continue
        if len(out) >= 2:
            a, b = out[-2], out[-1]
            if (abs(a[0] - b[0]) < 1e-6 and abs(b[0] - p[0]) < 1e-6) or (
                    abs(a[1] - b[1]) < 1e-6 and abs(b[1] - p[1]) < 1e-6):
                out[-1] = p
                continue
        out.append(p)
    return out


class _Router:
    """One wire's search."""

    def __init__(self, p: Point, q: Point, obstacles: Obstacles, source: Hashable, target: Hashable,
                 port: int) -> None:
        self.p, self.q, self.obs = p, q, obstacles
        self.source, self.target = source, target
        self.lead_in = LEAD + PORT_LEAD * min(port, 4)

    def blocked(self, points: list[Point]) -> int:
        """How many segments pass a box (the port stubs may touch their own block)."""
        last, count = len(points) - 2, 0
        for i, (a, b) in enumerate(zip(points, points[1:], strict=False)):
            ignore = (self.source,) * (i == 0) + (self.target,) * (i == last)
            count += self.obs.hit(a, b, ignore) is not None
        return count

    def direct(self) -> list[Point] | None:
        """A straight line, or three segments turning in a free vertical gap."""
        p, q = self.p, self.q
        if abs(p[1] - q[1]) < 0.5 and self.obs.hit(p, q, (self.source, self.target)) is None:
            return [p, q]
        low = p[0] + CLEAR + 2
        x = max(low, q[0] - self.lead_in)
        for _ in range(8):
            if x < low or x > q[0] - CLEAR - 2:
                return None
            vertical = self.obs.hit((x, p[1]), (x, q[1]))
            stub = self.obs.hit(p, (x, p[1]), (self.source,))
            if vertical is None and stub is None and self.obs.hit((x, q[1]), q, (self.target,)) is None:
                return [p, (x, p[1]), (x, q[1]), q]
            blocker = vertical if vertical is not None else stub
            if blocker is None:
                return None
            x = self.obs.rects[blocker][0] - CLEAR - 4
        return None

    def _walk(self, x: float, y: float, step: int) -> float:
        """A turning x near ``x`` whose vertical run and port stub are free (step +1: right of p).

        Past a box in the vertical run's way; short of a box in the stub's way.
        """
        port, own = (self.p, self.source) if step > 0 else (self.q, self.target)
        for _ in range(6):
            stub = self.obs.hit(port, (x, port[1]), (own,))
            if stub is not None:
                rect = self.obs.rects[stub]
                x = rect[0] - CLEAR - 4 if step > 0 else rect[2] + CLEAR + 4
                if (x - port[0]) * step < CLEAR + 2:
                    return port[0] + step * LEAD
                continue
            vertical = self.obs.hit((x, port[1]), (x, y))
            if vertical is None:
                return x
            rect = self.obs.rects[vertical]
            x = rect[2] + CLEAR + 4 if step > 0 else rect[0] - CLEAR - 4
        return x

    def tracks(self) -> list[float]:
        """Heights whose run between the two turns is free, the cheapest detour first.

        The boxes across the run's width, widened by :data:`CLEAR`, leave free gaps; each
        gap offers the height in it nearest the target's port.
        """
        p, q = self.p, self.q
        left = min(p[0] + LEAD, q[0] - self.lead_in)
        right = max(p[0] + LEAD, q[0] - self.lead_in)
        spans = sorted((r[1] - CLEAR, r[3] + CLEAR) for r in self.obs.rects.values()
                       if r[0] - CLEAR < right and r[2] + CLEAR > left)
        gaps, edge = [], -1e12
        for top, bottom in spans:
            if top > edge:
                gaps.append((edge, top))
            edge = max(edge, bottom)
        gaps.append((edge, 1e12))
        ys = []
        for top, bottom in gaps:
            inner = (top + 6, bottom - 6) if bottom - top > 12 else ((top + bottom) / 2,) * 2
            ys.append(min(max(q[1], inner[0]), inner[1]))
        return sorted(ys, key=lambda y: (abs(y - p[1]) + abs(y - q[1]), abs(y - q[1])))

    def around(self) -> list[Point]:
        """Five segments along the cheapest free track (the least blocked one if none is free)."""
        best: tuple[int, list[Point]] | None = None
        for y in self.tracks()[:40]:
            x1 = self._walk(self.p[0] + LEAD, y, +1)
            x2 = self._walk(self.q[0] - self.lead_in, y, -1)
            points = simplify([self.p, (x1, self.p[1]), (x1, y), (x2, y), (x2, self.q[1]), self.q])
            count = self.blocked(points)
            if count == 0:
                return points
            if best is None or count < best[0]:
                best = (count, points)
        assert best is not None
        return best[1]


def route(p: Point, q: Point, obstacles: Obstacles, source: Hashable = None, target: Hashable = None,
          port: int = 0) -> list[Point]:
    """The polyline of a wire from output ``p`` (of ``source``) to input ``port`` at ``q`` (of ``target``)."""
    router = _Router(p, q, obstacles, source, target, port)
    if q[0] - p[0] >= 2 * CLEAR + 4:
        found = router.direct()
        if found is not None:
            return found
    return router.around()


def crossed(points: list[Point], obstacles: Obstacles, ends: tuple[Hashable, Hashable]) -> set[Hashable]:
    """Boxes other than ``ends`` that the polyline passes through (touching an edge is not passing)."""
    hits: set[Hashable] = set()
    for a, b in zip(points, points[1:], strict=False):
        seg = (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
        for key in obstacles.near(seg):
            r = obstacles.rects[key]
            if key not in ends and seg[0] < r[2] and seg[2] > r[0] and seg[1] < r[3] and seg[3] > r[1]:
                hits.add(key)
    return hits
