"""Security tests: two-factor login, sessions, backups, retention, attacks and a form crawl."""
