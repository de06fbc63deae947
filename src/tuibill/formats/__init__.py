"""Interchange file formats (lot file, ARL, returns): writer + strict reader each."""
