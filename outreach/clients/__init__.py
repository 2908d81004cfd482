"""Participants and their anonymous codes."""
