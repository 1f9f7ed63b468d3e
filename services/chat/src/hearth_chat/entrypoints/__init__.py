"""Entrypoints: HTTP routes, the WebSocket and event subscribers, thin over the handlers."""
