"""tuibill — facturation au clavier pour cabinets paramédicaux."""

__version__ = "0.1.0"
