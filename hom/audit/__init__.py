"""Audit: who changed what, when (every admin and operator mutation)."""
