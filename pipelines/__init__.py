"""The Dagster code location (loaded by workspace.yaml)."""
