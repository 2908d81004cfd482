"""Login, logout, passwords and server-side sessions."""
