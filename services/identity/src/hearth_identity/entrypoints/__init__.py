"""Identity's HTTP entrypoints: thin routes over the handlers."""
