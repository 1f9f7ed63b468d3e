"""Hearth identity service: councils, users, roles, circles of support, sign-in."""
