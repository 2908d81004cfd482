"""CSV import of past encounters from an older system."""
