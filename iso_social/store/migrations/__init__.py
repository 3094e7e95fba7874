"""Schema migrations (Alembic): one revision per schema change, from the first release on.

`HEAD` names the newest revision. `upgrade` brings any database to it: a new one is created
from the tables and stamped; one made before migrations existed (its tables are revision
`0001`) is adopted and upgraded; an older one gets the revisions it lacks. It runs in one
transaction that holds the write lock (SQLite) or an advisory lock (PostgreSQL), so two
processes opening the same old database upgrade it once. Evidence is never rewritten by a
migration: the ledger's hash chain verifies before and after (tests/store/test_migrations.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

HEAD = "0010"
FIRST = "0001"
_LOCK = 7_263_512  # PostgreSQL advisory lock key of iso-social's schema upgrades


def revision(connection: Connection) -> str | None:
    """The database's revision, or None when it has no version table."""
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def declared_for(dialect: str) -> Callable[..., bool]:
    """Alembic's `include_object` for a database of `dialect`: what the tables declare for
    another dialect only (`tables.ONLY_ON`, made there alone by `ddl_if`) is left out of the
    comparison of the tables with the database, as it was left out of the database."""
    from iso_social.store.tables import ONLY_ON

    def include(item: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
        info = getattr(item, "info", None) or {}
        return reflected or info.get(ONLY_ON, dialect) == dialect

    return include


def _config() -> Any:
    """Alembic's configuration: the revisions in this package (alembic loads on use only)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    return config


def upgrade(engine: Engine, target: str = "head") -> None:
    """Create, adopt or upgrade the database's schema (see the module's docstring)."""
    from alembic import command

    from iso_social.store.database import transaction

    config = _config()
    with transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        config.attributes["connection"] = connection
        names = set(inspect(connection).get_table_names())
        if "alembic_version" not in names:
            if names & set(SQLModel.metadata.tables):
                command.stamp(config, FIRST)  # created before migrations existed
            elif target == "head":
                SQLModel.metadata.create_all(connection)
                command.stamp(config, "head")
                return
        command.upgrade(config, target)


def downgrade(engine: Engine, target: str) -> None:
    """Take the schema back to `target` (for tests of upgrades from older revisions)."""
    from alembic import command

    from iso_social.store.database import transaction

    config = _config()
    with transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, target)
