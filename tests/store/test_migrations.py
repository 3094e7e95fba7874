"""Schema migrations: the revisions build exactly the tables the code declares, and evidence
recorded under an older revision (or before migrations existed) survives the upgrade: the
chain verifies, and new runs chain onto it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlmodel import SQLModel

from iso_social import pipeline
from iso_social.evidence.retention import purge_content
from iso_social.policy import load_policies
from iso_social.store import migrations
from iso_social.store.database import create_schema, make_engine, opened_engine
from iso_social.store.tables import CALL, PURGED_AUTHOR
from iso_social.synthetic import synthetic_records
from tests.conftest import EXAMPLE_POLICY, canonical_message, write_jsonl

END = datetime(2026, 11, 1, tzinfo=UTC)


def test_head_names_the_newest_revision() -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    assert ScriptDirectory.from_config(config).get_current_head() == migrations.HEAD


def test_revisions_build_the_declared_schema(db_url: str) -> None:
    """Upgrading an empty database revision by revision gives the tables' metadata exactly; a
    table change without a revision fails here."""
    engine = make_engine(db_url)
    try:
        migrations.upgrade(engine, migrations.FIRST)
        migrations.upgrade(engine)
        with engine.connect() as connection:
            assert migrations.revision(connection) == migrations.HEAD
            context = MigrationContext.configure(
                connection,
                opts={"include_object": migrations.declared_for(connection.dialect.name)},
            )
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def _record_runs(db_url: str, tmp_path: Path, count: int) -> None:
    log = write_jsonl(
        tmp_path / f"log-{count}.jsonl",
        [
            canonical_message(f"m{count}-1", "2026-10-05T09:00:00Z", conversation_id=f"c{count}"),
            canonical_message(
                f"m{count}-2",
                "2026-10-05T09:20:00Z",
                conversation_id=f"c{count}",
                direction="outbound",
                author="@brand",
                author_role="agent",
            ),
        ],
    )
    pipeline.ingest_logs([log], db=db_url)
    policy = tmp_path / "policy.yaml"
    policy.write_text(EXAMPLE_POLICY, encoding="utf-8")
    for _ in range(count):
        pipeline.run_check(load_policies([policy]), db=db_url, end=END)


def _indexes(db_url: str, table: str) -> set[str]:
    with opened_engine(db_url) as engine, engine.connect() as connection:
        return {str(i["name"]) for i in inspect(connection).get_indexes(table)}


def test_evidence_from_the_first_revision_survives_the_upgrade(db_url: str, tmp_path: Path) -> None:
    _record_runs(db_url, tmp_path, 2)
    with opened_engine(db_url) as engine:
        migrations.downgrade(engine, migrations.FIRST)  # the database as the first release left it
        with engine.connect() as connection:
            assert migrations.revision(connection) == migrations.FIRST
    assert "ix_message_ingest_id" not in _indexes(db_url, "message")
    report = pipeline.verify_evidence(db_url)  # opening it upgrades it
    assert report.intact and report.runs == 2
    assert "ix_message_ingest_id" in _indexes(db_url, "message")
    _record_runs(db_url, tmp_path, 1)
    report = pipeline.verify_evidence(db_url)
    assert report.intact and report.runs == 3


def test_a_database_made_before_migrations_is_adopted(db_url: str, tmp_path: Path) -> None:
    _record_runs(db_url, tmp_path, 1)
    with opened_engine(db_url) as engine:
        migrations.downgrade(engine, migrations.FIRST)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))  # as `create_all` left it
    report = pipeline.verify_evidence(db_url)
    assert report.intact and report.runs == 1
    with opened_engine(db_url) as engine, engine.connect() as connection:
        assert migrations.revision(connection) == migrations.HEAD


def test_calls_purged_before_0005_are_marked_purged(db_url: str, tmp_path: Path) -> None:
    """Revision 0005 gives calls a `purged_at`: those an older version purged (their customer
    blanked) get one, so an incremental check still sees that they were purged."""
    start = datetime(2026, 10, 1, tzinfo=UTC)
    log = tmp_path / "log.jsonl"
    records = synthetic_records(600, seed=2, start=start, days=8)
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    pipeline.ingest_logs([log], db=db_url)
    with opened_engine(db_url) as engine:
        assert purge_content(engine, start + timedelta(days=3)).calls > 0
        migrations.downgrade(engine, "0004")
    assert "ix_call_purged_at" not in _indexes(db_url, "call")
    with opened_engine(db_url) as engine:
        create_schema(engine)  # as every command does when it opens the database
        with engine.connect() as connection:
            rows = connection.execute(select(CALL.c.customer, CALL.c.purged_at)).all()
    assert "ix_call_purged_at" in _indexes(db_url, "call")
    assert {customer == PURGED_AUTHOR for customer, _ in rows} == {True, False}
    assert all((customer == PURGED_AUTHOR) == (at is not None) for customer, at in rows)


def _ingest_references(db_url: str) -> dict[str, bool]:
    """Whether each table an ingest stores into refers to `ingest_file` by a foreign key."""
    with opened_engine(db_url) as engine, engine.connect() as connection:
        found = inspect(connection)
        return {
            table: any(k["referred_table"] == "ingest_file" for k in found.get_foreign_keys(table))
            for table in ("message", "status_change", "escalation", "call")
        }


def test_the_ingest_reference_is_a_foreign_key_on_sqlite_only(db_url: str) -> None:
    """Revision 0010: PostgreSQL's per-row check of it was 40% of a `COPY`'s work; a new
    database and an upgraded one agree, and a downgrade puts it back."""
    sqlite = db_url.startswith("sqlite")
    with opened_engine(db_url) as engine:
        create_schema(engine)  # a new database: made from the tables
        assert set(_ingest_references(db_url).values()) == {sqlite}
        migrations.downgrade(engine, "0009")
    assert set(_ingest_references(db_url).values()) == {True}
    with opened_engine(db_url) as engine:
        create_schema(engine)
    assert set(_ingest_references(db_url).values()) == {sqlite}
