"""Persistence: SQLAlchemy Core tables (for Alembic), a thin SQL runner, repositories."""
