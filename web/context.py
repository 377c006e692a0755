"""Accessors for the objects create_app() hands to the request handlers."""

from __future__ import annotations

from flask import Flask, current_app

from switchboard.config import Settings
from switchboard.store import Store

SETTINGS_KEY = "switchboard.settings"
STORE_KEY = "switchboard.store"


def install(app: Flask, settings: Settings, store: Store) -> None:
    """Attach the settings and the store to ``app``."""
    app.extensions[SETTINGS_KEY] = settings
    app.extensions[STORE_KEY] = store


def get_settings() -> Settings:
    """The settings of the current app."""
    return current_app.extensions[SETTINGS_KEY]


def get_store() -> Store:
    """The store of the current app."""
    return current_app.extensions[STORE_KEY]
