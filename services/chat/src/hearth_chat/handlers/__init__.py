"""Handlers: plain async functions, the command or message first, dependencies keyword-only."""
