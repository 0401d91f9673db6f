"""Dagster resources: thin ConfigurableResource wrappers around the domain's clients."""

from resources.database import DatabaseResource
from resources.settings import SettingsResource

__all__ = ["DatabaseResource", "SettingsResource"]
