"""The chat domain: pure rules, no frameworks, no I/O."""
