"""Adapters: repositories on the store port, identity over HTTP, business metrics."""
