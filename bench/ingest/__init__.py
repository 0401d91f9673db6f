"""The ingest benchmark: ``python -m bench.ingest`` runs ``__main__``."""
