"""Migration scripts, oldest first. Alembic skips this file when it scans the folder."""
