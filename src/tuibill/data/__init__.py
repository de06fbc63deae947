"""Packaged data files (tariffs)."""
