"""Shared plumbing: settings, database, redis, security, GraphQL core."""
