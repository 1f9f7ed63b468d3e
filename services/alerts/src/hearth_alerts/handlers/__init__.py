"""Alerts handlers: plain async functions, message first, dependencies keyword-only."""
