"""Export graphs as PyTorch source, ONNX and weights; import PyTorch modules as graphs.

* :mod:`builder.export.codegen` — ``export_code(graph)`` → readable standalone module source
  (classes per repeated group, stages built in loops; torch-free and fast). Helpers:
  :mod:`~builder.export.structure` (groups → classes, stages, containers),
  :mod:`~builder.export.classes` (shared classes and their parameters),
  :mod:`~builder.export.forward` (``forward`` bodies), :mod:`~builder.export.pysource`.
* :mod:`builder.export.weights` — read checkpoints/state dicts (``weights_only=True``), save them.
* :mod:`builder.export.onnx_export` — ``export_onnx(graph, path, weights)`` through torch.onnx.
* :mod:`builder.export.fx_import` — ``trace_module(module, input_shape)`` traces with torch.fx.
* :mod:`builder.export.cli` — ``main.py export`` and ``main.py import``.
"""
