"""Export graphs as PyTorch source, ONNX and weights; import PyTorch modules as graphs."""
