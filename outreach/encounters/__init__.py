"""Encounters: contacts with supplies given and collected, reversals and services."""
