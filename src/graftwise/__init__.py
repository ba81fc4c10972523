"""graftwise: an open platform for blood-stem-cell transplantation."""

__version__ = "0.1.0"
