"""Dagster assets and asset checks (the code location's, loaded by pipelines/).

Each asset calls one domain function and turns its answer into Dagster events
(``events``); the partitions and the batching they share are in ``partitions``.
"""
