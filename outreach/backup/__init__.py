"""Database backups: create with SQLite online backup or pg_dump, and restore."""
