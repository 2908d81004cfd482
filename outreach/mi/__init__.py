"""Motivational interviewing notes: structured, confidential, encrypted at rest."""
