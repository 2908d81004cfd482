"""Outreach test suite."""
