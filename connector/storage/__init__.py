"""Persistence: the only package that imports SQLAlchemy. SQLite (WAL) by default, PostgreSQL at scale.

``db`` builds engines and sessions, ``tables`` declares the schema (migrated by Alembic in ``migrations/``),
``repos`` holds every query — each one takes the organisation it is scoped to.
"""
