"""Names in the built module: submodule paths from block ids and groups, the model's class name.

A block ``layer2_0_conv1`` in group ``layer2.0`` lives at ``layer2.0.conv1``: the group's
path with dots made underscores is stripped from the front of the id. The compiled module
and the exported code both use these names, so their state-dict keys agree.
"""

from __future__ import annotations

import keyword
import re

from builder.graph import Graph

# Public attributes of torch.fx.GraphModule / nn.Module (torch 2.x) and what compile sets: a
# submodule of one of these names would clash ("attribute 'forward' already exists").
RESERVED = frozenset("""
T_destination add_module add_submodule apply bfloat16 block_paths buffers call_super_init children
code compile cpu cuda delete_all_unused_submodules delete_submodule double dump_patches eval
extra_repr float forward get_buffer get_extra_state get_parameter get_submodule graph half ipu
load_state_dict meta modules mtia named_buffers named_children named_modules named_parameters
parameters print_readable recompile register_backward_hook register_buffer register_forward_hook
register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
set_extra_state set_submodule shape_env share_memory state_dict to to_empty to_folder train
training type xpu zero_grad
""".split())


def safe_name(name: str) -> str:
    """A submodule name for ``name``: no keyword, no module attribute, no leading underscore."""
    if name.startswith("_"):
        name = "m" + name
    while keyword.iskeyword(name) or name in RESERVED:
        name += "_"
    return name


def safe_group(group: str) -> str:
    """A group path whose every part is a safe submodule name."""
    return ".".join(safe_name(part) for part in group.split(".")) if group else ""


def local_name(block_id: str, group: str) -> str:
    """The block's name inside its group (the id without the group prefix)."""
    prefix = group.replace(".", "_") + "_"
    if group and block_id.startswith(prefix):
        rest = block_id[len(prefix):]
        if rest.isidentifier() or rest.isdigit():  # digits: children of an nn.Sequential
            return rest
    return block_id


def module_paths(graph: Graph, block_ids: list[str] | None = None) -> dict[str, str]:
    """``{block id: dotted module path}`` with clashes resolved to the full id."""
    ids = block_ids if block_ids is not None else graph.ids()
    taken: set[tuple[str, str]] = set()  # (group, child name) pairs already used
    for group in {safe_group(graph.block(b).group) for b in graph.ids()}:
        parts = group.split(".") if group else []
        for i in range(len(parts)):
            taken.add((".".join(parts[:i]), parts[i]))
    paths: dict[str, str] = {}
    for block_id in ids:
        raw_group = graph.block(block_id).group
        group = safe_group(raw_group)
        name = safe_name(local_name(block_id, raw_group))
        if (group, name) in taken:
            name = safe_name(block_id)
        while (group, name) in taken or safe_name(name) != name:
            name += "_"
        taken.add((group, name))
        paths[block_id] = f"{group}.{name}" if group else name
    return paths


def class_name(name: str) -> str:
    """The model's CamelCase class name, made from a graph name (``resnet20`` → ``Resnet20``).

    The compiled module and the exported code both take this name.
    """
    words = [w for w in re.split(r"[^0-9A-Za-z]+", name) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
    return text if text[0].isalpha() else "Net" + text
