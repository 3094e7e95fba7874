"""The store: SQLite by default, PostgreSQL when the URL says so."""
