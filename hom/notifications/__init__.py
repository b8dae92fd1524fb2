"""Notifications: the mail outbox and in-app notifications."""
