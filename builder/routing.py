"""Wire routes that go around blocks (Qt-free): orthogonal polylines from an output to an input.

A route leaves the output port to the right and enters the input port from the left. It tries,
in order: a straight line (ports at one height); three segments turning in the gap before the
target (or further left, past whatever is in the way); five segments that run along a free
*track* (a height just above or below some block) between a turn after the source and a turn
before the target. Every segment keeps :data:`CLEAR` away from every block box, except the
short stubs at the two ports, which may touch their own block. Higher input ports turn a
little earlier, so the wires into a Concat stay apart. Frames' name strips are soft obstacles
(avoided when there is a way round), and a run inside a frame the wire merely leaves or
enters is a detour of its own, so wires between rows run between the frames.

:class:`Obstacles` is a spatial hash of block boxes, updated as blocks move.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

from builder.layout import Rect

Point = tuple[float, float]
CLEAR = 8.0  # a route keeps this far from every block box
LEAD = 20.0  # ... and runs straight out of an output and into an input at least this long
PORT_LEAD = 7.0  # each further input port turns this much earlier
CELL = 240.0  # the spatial hash's cell size
TRACKS = 30  # heights tried before the least blocked route is taken
AVOID = 200.0  # a track inside a frame the wire only passes out of or into costs this much more
WIDE = 14.0  # in a wide free gap a track keeps this far from its edges
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
        self.soft: set[Hashable] = set()  # boxes a route avoids if it can (frame names), not blocks
        self.changed: list[Rect] = []  # boxes put, moved or removed (old and new) since taken
        self.probes: list[Rect] | None = None  # while set, every area a route looks at is added

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

    def put(self, key: Hashable, rect: Rect, soft: bool = False) -> bool:
        """Add or move ``key``'s box; True when it changed."""
        old = self.rects.get(key)
        if old == rect:
            return False
        self.remove(key)
        self.rects[key] = rect
        self.changed.append(rect)
        if soft:
            self.soft.add(key)
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
        self.soft.discard(key)
        self.changed.append(rect)
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
        self.soft.clear()
        self.changed.clear()

    def near(self, area: Rect) -> set[Hashable]:
        """Keys whose boxes may touch ``area`` (a superset)."""
        cells = self._span(area)
        if cells is None:
            return set(self.rects)
        found = set(self._big)
        for cell in cells:
            found |= self._cells.get(cell, set())
        return found

    def hit(self, a: Point, b: Point, ignore: tuple[Hashable, ...] = (), clear: float = CLEAR,
            soft: bool = True) -> Hashable | None:
        """A box the axis-parallel segment ``a``–``b`` passes within ``clear`` of (None: free).

        A block is reported before a soft box (a frame's name strip) the segment also passes;
        with ``soft`` False soft boxes are not reported at all.
        """
        x0, x1 = (a[0], b[0]) if a[0] <= b[0] else (b[0], a[0])
        y0, y1 = (a[1], b[1]) if a[1] <= b[1] else (b[1], a[1])
        if self.probes is not None:
            self.probes.append((x0 - clear, y0 - clear, x1 + clear, y1 + clear))
        cells = self._span((x0, y0, x1, y1))
        if cells is None:
            groups: Iterable[Iterable[Hashable]] = (self.rects,)
        else:
            groups = [self._big, *(self._cells.get(c, ()) for c in cells)]
        found = None
        rects, softs = self.rects, self.soft
        for keys in groups:
            for key in keys:
                r = rects[key]
                if x0 < r[2] + clear and x1 > r[0] - clear and y0 < r[3] + clear and y1 > r[1] - clear:
                    if key in ignore:
                        continue
                    if key not in softs:
                        return key
                    if soft:
                        found = key
        return found


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
                 port: int, avoid: Sequence[Rect]) -> None:
        self.p, self.q, self.obs = p, q, obstacles
        self.source, self.target = source, target
        self.lead_in = LEAD + PORT_LEAD * min(port, 4)
        self.avoid = avoid

    def blocked(self, points: list[Point]) -> int:
        """How badly the route is blocked: 100 per segment through a block, 1 through a soft box.

        The port stubs may touch their own block.
        """
        last, count = len(points) - 2, 0
        for i, (a, b) in enumerate(zip(points, points[1:], strict=False)):
            ignore = (self.source,) * (i == 0) + (self.target,) * (i == last)
            key = self.obs.hit(a, b, ignore)
            count += 0 if key is None else 1 if key in self.obs.soft else 100
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

    def _walk(self, x: float, y: float, step: int, soft: bool) -> float:
        """A turning x near ``x`` whose vertical run and port stub are free (step +1: right of p).

        Past a box in the vertical run's way; short of a box in the stub's way. ``soft``: frame
        names count as boxes too.
        """
        port, own = (self.p, self.source) if step > 0 else (self.q, self.target)
        for _ in range(6):
            stub = self.obs.hit(port, (x, port[1]), (own,), soft=soft)
            if stub is not None:
                rect = self.obs.rects[stub]
                x = rect[0] - CLEAR - 4 if step > 0 else rect[2] + CLEAR + 4
                if (x - port[0]) * step < CLEAR + 2:
                    return port[0] + step * LEAD
                continue
            vertical = self.obs.hit((x, port[1]), (x, y), soft=soft)
            if vertical is None:
                return x
            rect = self.obs.rects[vertical]
            x = rect[2] + CLEAR + 4 if step > 0 else rect[0] - CLEAR - 4
        return x

    def tracks(self) -> list[float]:
        """Heights whose run between the two turns is free, the cheapest detour first.

        The boxes across the run's width, widened by :data:`CLEAR`, leave free gaps; a narrow
        gap offers its middle, a wide one the height in it nearest the target's port. Among
        equally short detours the one nearest the source wins: a wire to the next row runs in
        the gap under its own row and turns down in the column gap before its target.
        """
        p, q = self.p, self.q
        left = min(p[0] + LEAD, q[0] - self.lead_in)
        right = max(p[0] + LEAD, q[0] - self.lead_in)
        if self.obs.probes is not None:  # every box across the run's width counts
            self.obs.probes.append((left - CLEAR, -1e18, right + CLEAR, 1e18))
        spans = sorted((r[1] - CLEAR, r[3] + CLEAR) for r in self.obs.rects.values()
                       if r[0] - CLEAR < right and r[2] + CLEAR > left)
        gaps, edge = [], -1e12
        for top, bottom in spans:
            if top > edge:
                gaps.append((edge, top))
            edge = max(edge, bottom)
        gaps.append((edge, 1e12))
        ys = [_track_in(top, bottom, q[1]) for top, bottom in gaps]
        def cost(y: float) -> tuple[float, float]:
            inside = any(a[1] < y < a[3] and a[0] < right and a[2] > left for a in self.avoid)
            return (abs(y - p[1]) + abs(y - q[1]) + AVOID * inside, abs(y - p[1]))

        return sorted(ys, key=cost)

    def around(self) -> list[Point]:
        """Five segments along the cheapest free track (the least blocked one if none is free)."""
        best: tuple[int, list[Point]] | None = None
        p, q = self.p, self.q
        buried = (self.obs.hit(p, (p[0] + 1, p[1]), (self.source,), soft=False) is not None
                  or self.obs.hit((q[0] - 1, q[1]), q, (self.target,), soft=False) is not None)
        for y in self.tracks()[:1 if buried else TRACKS]:  # a port under another block: no way is free
            for soft in (True, False):  # round frame names too if that leaves a way; else through them
                x1 = self._walk(self.p[0] + LEAD, y, +1, soft)
                x2 = self._walk(self.q[0] - self.lead_in, y, -1, soft)
                points = simplify([self.p, (x1, self.p[1]), (x1, y), (x2, y), (x2, self.q[1]), self.q])
                count = self.blocked(points)
                if count == 0:
                    return points
                if best is None or count < best[0]:
                    best = (count, points)
                if count < 100:  # only frame names in the way: going through them is no better
                    break
        assert best is not None
        return best[1]


def _track_in(top: float, bottom: float, toward: float) -> float:
    """The height a wire takes in the free gap from ``top`` to ``bottom``."""
    if top < -1e11:
        return bottom - WIDE
    if bottom > 1e11:
        return top + WIDE
    if bottom - top < 4 * WIDE:
        return (top + bottom) / 2
    return min(max(toward, top + WIDE), bottom - WIDE)


def route(p: Point, q: Point, obstacles: Obstacles, source: Hashable = None, target: Hashable = None,
          port: int = 0, avoid: Sequence[Rect] = ()) -> list[Point]:
    """The polyline of a wire from output ``p`` (of ``source``) to input ``port`` at ``q`` (of ``target``).

    ``avoid``: frames the wire only leaves or enters; a run along their inside costs a detour
    of :data:`AVOID` (so a wire to the next row runs between frames, not through one).
    """
    router = _Router(p, q, obstacles, source, target, port, avoid)
    if q[0] - p[0] >= 2 * CLEAR + 4:
        found = router.direct()
        if found is not None:
            return found
    return router.around()


def probed_route(p: Point, q: Point, obstacles: Obstacles, source: Hashable, target: Hashable, port: int,
                 avoid: Sequence[Rect]) -> tuple[list[Point], list[Rect]]:
    """:func:`route`, and the areas it looked at: a change of boxes outside them changes nothing."""
    obstacles.probes = []
    try:
        points = route(p, q, obstacles, source, target, port, avoid)
        return points, obstacles.probes
    finally:
        obstacles.probes = None


def touches(rect: Rect, areas: Sequence[Rect]) -> bool:
    """True when ``rect`` meets one of ``areas`` (edges included)."""
    return any(rect[0] <= a[2] and a[0] <= rect[2] and rect[1] <= a[3] and a[1] <= rect[3] for a in areas)


def crossed(points: list[Point], obstacles: Obstacles, ends: tuple[Hashable, Hashable]) -> set[Hashable]:
    """Blocks other than ``ends`` the polyline passes through (touching an edge is not passing)."""
    hits: set[Hashable] = set()
    for a, b in zip(points, points[1:], strict=False):
        seg = (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
        for key in obstacles.near(seg):
            r = obstacles.rects[key]
            inside = seg[0] < r[2] and seg[2] > r[0] and seg[1] < r[3] and seg[3] > r[1]
            if inside and key not in ends and key not in obstacles.soft:
                hits.add(key)
    return hits


class RouteBook:
    """Which wires must be routed again after boxes changed.

    Each wire's route remembers the areas it looked at (:func:`probed_route`); a box that
    appears, moves or goes outside all of them cannot change that route. Wires whose own
    ends moved are marked stale by whoever moved them.
    """

    def __init__(self) -> None:
        self._seen: dict[Hashable, tuple[Rect | None, list[Rect], list[tuple[float, float]]]] = {}
        self.stale: set[Hashable] = set()
        self.everything = False

    def record(self, key: Hashable, probes: list[Rect]) -> None:
        finite = [p for p in probes if p[1] > -1e17]
        bands = [(p[0], p[2]) for p in probes if p[1] <= -1e17]
        box = None
        if finite:
            box = (min(p[0] for p in finite), min(p[1] for p in finite),
                   max(p[2] for p in finite), max(p[3] for p in finite))
        self._seen[key] = (box, finite, bands)
        self.stale.discard(key)

    def forget(self, key: Hashable) -> None:
        self._seen.pop(key, None)
        self.stale.discard(key)

    def clear(self) -> None:
        self._seen.clear()
        self.stale.clear()
        self.everything = False

    def due(self, keys: Iterable[Hashable], changes: list[Rect], limit: int = 200) -> list[Hashable]:
        """The wires among ``keys`` whose routes ``changes`` (boxes, old and new) may alter."""
        keys = list(keys)
        if self.everything or len(changes) > limit:
            self.everything = False
            return keys
        return [k for k in keys if k in self.stale or k not in self._seen or self._touched(k, changes)]

    def _touched(self, key: Hashable, changes: list[Rect]) -> bool:
        box, finite, bands = self._seen[key]
        for c in changes:
            if any(c[0] <= right and left <= c[2] for left, right in bands):
                return True
            if box is not None and touches(c, [box]) and touches(c, finite):
                return True
        return False
