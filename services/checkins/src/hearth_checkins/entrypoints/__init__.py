"""Entrypoints: HTTP routes and event subscribers, thin over the handlers."""
