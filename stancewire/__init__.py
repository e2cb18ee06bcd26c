"""stancewire: the command line, and the embedded runtime that wires streams and consumers."""

__version__ = "0.1.0"
