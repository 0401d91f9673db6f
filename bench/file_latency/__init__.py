"""The file_latency benchmark: ``python -m bench.file_latency`` runs ``__main__``."""
