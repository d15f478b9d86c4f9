"""Skipwire's Qt-free core: block catalog, graph document, validation, compile, files."""

__version__ = "0.1.0"
