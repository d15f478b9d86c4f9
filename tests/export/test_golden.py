"""Golden files: the exported code of ResNet-20, plain-20 and LeNet, byte for byte.

After an intended change of the generator, regenerate with ``python -m tests.export.regen``
and review the diff.
"""

from __future__ import annotations

import pytest

from .regen import GOLDEN, STEMS, golden_source


@pytest.mark.parametrize("stem", STEMS)
def test_exported_code_matches_golden_file(stem):
    expected = (GOLDEN / f"{stem}.py").read_text(encoding="utf-8")
    assert golden_source(stem) == expected, "exported code changed; run python -m tests.export.regen"
