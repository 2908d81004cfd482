"""Retention: permanently remove removed records and records older than the period."""
