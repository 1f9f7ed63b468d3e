"""Adapters: repositories on the store port, identity over HTTP, the replica feed, the
local socket hub, business metrics."""
