"""Alembic's environment: migrations run on the connection the store hands over."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlmodel import SQLModel

from iso_social.store import tables  # noqa: F401  (registers the tables)
from iso_social.store.migrations import declared_for


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    """Write the store's column types as plain SQLAlchemy types in new revisions."""
    if kind == "type" and type(item).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    if kind == "type" and type(item).__name__ == "AutoString":
        return "sa.String()"
    return False


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_item=_render_item,
    render_as_batch=connection.dialect.name == "sqlite",
    include_object=declared_for(connection.dialect.name),
)
with context.begin_transaction():
    context.run_migrations()
