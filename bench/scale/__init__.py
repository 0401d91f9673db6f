"""The scale benchmark: ``python -m bench.scale`` runs ``__main__``."""
