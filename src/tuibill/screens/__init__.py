"""Textual screens, one module per menu; thin clients of the services."""
