"""Ticket storage: SQLAlchemy models, the database handle with migrations, the repository."""
