"""Zoo fidelity: every template of the reference zoo against a reference module of the same model.

Run: ``python bench/zoo_fidelity.py [NAME ...]`` (default: every reference model)

For each template it builds the reference module (``tests/export/reference_zoo.py``: modules
with the architectures and attribute names of facebookresearch/mixup-cifar10's ``models/``),
randomises its BatchNorm statistics, loads its ``state_dict`` into the compiled graph with
``strict=True`` and prints the parameter count, how many state-dict keys match, and the largest
output difference on a 2×3×32×32 batch in eval mode (0 means bit-identical outputs).
The tests check the same for all but the four largest models; this script checks them all.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder import templates  # noqa: E402  (after the path set-up above)
from builder.compile import compile_graph  # noqa: E402
from tests.export.reference_zoo import REFERENCES  # noqa: E402
from tests.export.test_zoo_fidelity import randomise_batchnorm  # noqa: E402


def check(name: str) -> str:
    start = time.perf_counter()
    torch.manual_seed(0)
    reference = REFERENCES[name]().eval()
    randomise_batchnorm(reference)
    with torch.device("meta"):
        compiled = compile_graph(templates.make(name))
    theirs, ours = set(reference.state_dict()), set(compiled.state_dict())
    compiled.load_state_dict(reference.state_dict(), strict=True, assign=True)
    compiled.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected, got = reference(x), compiled(x)
    diff = (expected - got).abs().max().item()
    params = sum(p.numel() for p in reference.parameters())
    return (f"| {name} | {params:,} | {len(theirs & ours)}/{len(theirs)} (graph has {len(ours)}) | yes | "
            f"{diff:.3g} | {expected.abs().max().item():.3g} | {time.perf_counter() - start:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"templates (default: all {len(REFERENCES)})")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| template | parameters | state-dict keys matched | strict load | max abs output difference "
          "| max abs output | seconds |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: |")
    for name in args.names or REFERENCES:
        print(check(name), flush=True)


if __name__ == "__main__":
    main()
