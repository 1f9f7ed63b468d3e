"""Hearth chat service: conversations, real-time delivery, live support, safeguarding."""
