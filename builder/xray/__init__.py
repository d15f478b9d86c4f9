"""Residual X-ray: instruments that show *why* skip connections work (Qt-free).

- :mod:`~builder.xray.preflight` — one forward + backward on one batch before training:
  activation statistics and gradient norms by depth, with verdicts in words.
- :mod:`~builder.xray.split` — during training, at every residual Add: how much gradient
  reaches the unit's input through the skip path and through the residual branch.
- :mod:`~builder.xray.lesion` — Veit et al. 2016: delete one block at a time from a trained net
  and measure validation error.
- :mod:`~builder.xray.landscape` — Li et al. 2018: the loss along filter-normalised random
  directions around a trained checkpoint (1-D and 2-D slices).
- :mod:`~builder.xray.diff` — blocks and wires added, removed or changed between two graphs.
- :mod:`~builder.xray.lab` — ``main.py xray``: all of them for a plain net and its ResNet.

:mod:`~builder.xray.structure` and :mod:`~builder.xray.diff` need no torch; the other modules
import it, and this package imports none of them, so ``main.py --help`` stays fast.
"""
