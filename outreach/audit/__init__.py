"""Tamper-evident audit log, written in the same transaction as each change."""
