"""The exchange platform: Flask app, REST API, accounts, and the commands behind ``exchange``."""

from .app import create_app

__all__ = ["create_app"]
