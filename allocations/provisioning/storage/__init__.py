"""Granted storage, provisioned through the site's storage backend (docs/storage.md)."""
