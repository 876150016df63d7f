"""Persistence (SQLModel): SQLite by default, PostgreSQL or any SQLAlchemy URL via DATABASE_URL."""
