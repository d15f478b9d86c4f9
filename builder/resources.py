"""Memory a graph will need, estimated from shapes alone, and the limit it must fit in.

Nothing here imports torch or allocates a tensor: the estimate is what running the model would
take (float32 parameters plus every block's output for the batch), computed from the shapes that
validation inferred. :func:`memory_limit` is a fraction of this machine's memory unless the
``SKIPWIRE_MEMORY_LIMIT`` environment variable (``8G``, ``512MB``, ``2GiB``, a byte count) or an
explicit argument says otherwise.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from builder.catalog import CATALOG, Shape

BYTES_PER_VALUE = 4  # float32
ENV_VAR = "SKIPWIRE_MEMORY_LIMIT"
DEFAULT_FRACTION = 0.5  # of the machine's memory
FALLBACK_MEMORY = 8 * 1000**3  # when the machine's memory cannot be read
VIEWS = frozenset(t for t, e in CATALOG.items() if e.view)  # blocks whose output is another's tensor

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
          "gb": 1000**3, "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3,
          "tib": 1024**4}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:e[0-9]+)?)\s*([a-z]*)\s*$")


class LimitError(ValueError):
    """The memory limit given (argument or environment variable) is not a size."""


@dataclass(frozen=True)
class Limit:
    """A memory limit in bytes and where it comes from (for messages)."""

    bytes: int
    source: str


@dataclass
class Estimate:
    """Bytes a graph needs for one batch: parameters and block outputs, per block and in total."""

    batch_size: int
    param_bytes: int = 0
    activation_bytes: int = 0
    per_block: dict[str, tuple[int, int]] = field(default_factory=dict)  # id → (params, output)

    @property
    def total(self) -> int:
        return self.param_bytes + self.activation_bytes

    def largest(self) -> str:
        """The block that needs the most memory (its parameters plus its output)."""
        return max(self.per_block, key=lambda b: sum(self.per_block[b]))


def fmt_bytes(count: float) -> str:
    """``4_400_000_000_000`` → ``4.4 TB`` (decimal units, as disks and most tools print them)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if count < 1000 or unit == "PB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def parse_size(text: str) -> int:
    """``"8G"``, ``"512 MB"``, ``"2GiB"``, ``"1e9"`` → bytes; LimitError otherwise."""
    match = _SIZE.match(text.lower())
    if match is None or match.group(2) not in _UNITS:
        raise LimitError(f"{text!r} is not a memory size (e.g. 8G, 512MB, 2GiB or a number of bytes)")
    value = float(match.group(1)) * _UNITS[match.group(2)]
    if not math.isfinite(value) or value < 1:
        raise LimitError(f"{text!r} is not a memory size of at least one byte")
    return int(value)


@functools.lru_cache(maxsize=1)
def machine_memory() -> int | None:
    """This machine's memory in bytes (the cgroup's limit when lower), None if unknown."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        total = 0
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as handle:
                text = handle.read().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < (total or int(text) + 1):
            total = int(text)
    return total or None


def memory_limit(explicit: int | str | None = None, use_env: bool = True) -> Limit:
    """The limit to check graphs against: ``explicit``, else the environment, else the default."""
    if explicit is not None:
        value = parse_size(explicit) if isinstance(explicit, str) else int(explicit)
        return Limit(value, "the limit given")
    text = os.environ.get(ENV_VAR, "").strip() if use_env else ""
    if text:
        try:
            return Limit(parse_size(text), f"{ENV_VAR}={text}")
        except LimitError as exc:
            raise LimitError(f"{ENV_VAR}: {exc}") from None
    memory = machine_memory()
    if memory is None:
        return Limit(FALLBACK_MEMORY, f"a default, as this machine's memory is unknown; set {ENV_VAR} "
                     "to change it")
    return Limit(int(memory * DEFAULT_FRACTION), f"half of this machine's {fmt_bytes(memory)}; set "
                 f"{ENV_VAR} to change it")


def estimate(blocks: Iterable[tuple[str, str, int]], shapes: dict[str, Shape],
             batch_size: int = 1) -> Estimate:
    """Bytes for ``(block id, type id, parameter count)`` triples whose output shapes are known."""
    result = Estimate(batch_size)
    for block_id, type_id, params in blocks:
        shape = shapes.get(block_id)
        if shape is None:
            continue
        out = 0 if type_id in VIEWS else BYTES_PER_VALUE * batch_size * math.prod(shape)
        weights = BYTES_PER_VALUE * params
        result.per_block[block_id] = (weights, out)
        result.param_bytes += weights
        result.activation_bytes += out
    return result


def too_large_message(est: Estimate, limit: Limit, block_id: str) -> str:
    """One sentence: what the model needs, the limit, and what the largest block takes."""
    weights, out = est.per_block[block_id]
    parts = [f"its output {fmt_bytes(out)}"] if out else []
    parts += [f"its parameters {fmt_bytes(weights)}"] if weights else []
    return (f"the model needs about {fmt_bytes(est.total)} for a batch of {est.batch_size} "
            f"(parameters {fmt_bytes(est.param_bytes)}, block outputs {fmt_bytes(est.activation_bytes)}), "
            f"more than the memory limit of {fmt_bytes(limit.bytes)} ({limit.source}); the largest "
            f"block is this one ({', '.join(parts)}): use fewer channels or features, a smaller "
            "input or a larger stride")
