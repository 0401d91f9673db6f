"""The claims benchmark: ``python -m bench.claims`` runs ``__main__``."""
