"""Alembic migrations of the state store, shipped inside the package.

``isthmus.store.migrate`` runs them programmatically (no ``alembic.ini`` on disk); this
file only makes the folder a package so that it is installed with the wheel.
"""
