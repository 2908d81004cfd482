"""Users, roles and sites (administration)."""
