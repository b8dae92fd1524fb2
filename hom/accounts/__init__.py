"""Accounts: users, roles, sessions, tokens, avatars."""
