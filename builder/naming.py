"""Submodule names: how a block id and its group path become a module path.

A block ``layer2_0_conv1`` in group ``layer2.0`` lives at ``layer2.0.conv1``: the group's
path with dots made underscores is stripped from the front of the id. The compiled module
and the exported code both use these names, so their state-dict keys agree.
"""

from __future__ import annotations

from builder.graph import Graph


def local_name(block_id: str, group: str) -> str:
    """The block's name inside its group (the id without the group prefix)."""
    prefix = group.replace(".", "_") + "_"
    if group and block_id.startswith(prefix):
        rest = block_id[len(prefix):]
        if rest.isidentifier():
            return rest
    return block_id


def module_paths(graph: Graph, block_ids: list[str] | None = None) -> dict[str, str]:
    """``{block id: dotted module path}`` with clashes resolved to the full id."""
    ids = block_ids if block_ids is not None else graph.ids()
    taken: set[tuple[str, str]] = set()  # (group, child name) pairs already used
    for group in {graph.block(b).group for b in graph.ids()}:
        parts = group.split(".") if group else []
        for i in range(len(parts)):
            taken.add((".".join(parts[:i]), parts[i]))
    paths: dict[str, str] = {}
    for block_id in ids:
        group = graph.block(block_id).group
        name = local_name(block_id, group)
        if (group, name) in taken:
            name = block_id
        while (group, name) in taken:
            name += "_"
        taken.add((group, name))
        paths[block_id] = f"{group}.{name}" if group else name
    return paths
