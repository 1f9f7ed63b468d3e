"""Identity's handlers: plain async functions, command first, dependencies keyword-only."""
