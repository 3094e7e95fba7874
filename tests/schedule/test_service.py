"""The service settings file and the drop-folder ingest, alone and under the scheduler."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from iso_social.errors import ConfigError
from iso_social.service import FAILED, PROCESSED, ingest_drop_folder, load_service_settings
from iso_social.store.database import opened_engine
from iso_social.store.tables import MESSAGE
from tests.conftest import EXAMPLE_POLICY, canonical_message, write_jsonl
from tests.schedule.test_notify import Hook
from tests.schedule.test_scheduler import start

SETTLED = time.time() - 3600


def messages(db: str) -> int:
    with opened_engine(db) as engine, engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(MESSAGE)).scalar_one())


def dropped(folder: Path, name: str, n: int, *, settled: bool = True) -> Path:
    records = [canonical_message(f"{name}-{i}", "2026-10-05T09:00:00Z") for i in range(n)]
    path = write_jsonl(folder / f"{name}.jsonl", records)
    if settled:
        os.utime(path, (SETTLED, SETTLED))
    return path


def test_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    path.write_text(
        "notifications:\n"
        "  due_within: 30m\n"
        "  webhook: {url: 'https://hooks.example.com/x', secret_env: HOOK_KEY}\n"
        "watch:\n"
        "  - {folder: drop, every: 5m, brands: [AcmeHelp]}\n",
        encoding="utf-8",
    )
    settings = load_service_settings(path)
    assert settings.notifications is not None
    assert settings.notifications.due_within.total_seconds() == 1800
    (watch,) = settings.watch
    assert watch.folder == (tmp_path / "drop").resolve() and watch.job_id.startswith("ingest:")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("watch:\n  - {folder: x, evry: 5m}\n", "watch.0.evry"),
        ("notifications:\n  webhook: {url: 'ftp://x'}\n", "notifications.webhook.url"),
        ("notifications:\n  email: {host: h, sender: s, recipients: []}\n", "recipients"),
        ("watch: [\n", "service.yaml:"),
    ],
)
def test_settings_errors_name_the_field(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "service.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")) as caught:
        load_service_settings(path)
    assert str(path) in caught.value.message


def test_drop_folder_ingests_settled_files_and_keeps_failures(
    tmp_path: Path, sqlite_url: str
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    dropped(folder, "good", 3)
    dropped(folder, "copying", 2, settled=False)  # still being written: next round
    broken = folder / "broken.bin"
    broken.write_bytes(bytes(range(256)))
    os.utime(broken, (SETTLED, SETTLED))
    (folder / ".partial").write_text("hidden", encoding="utf-8")
    service = tmp_path / "service.yaml"
    service.write_text("watch:\n  - {folder: drop, settle: 1m}\n", encoding="utf-8")
    (watch,) = load_service_settings(service).watch
    log: list[tuple[str, dict[str, object]]] = []
    counts = ingest_drop_folder(sqlite_url, watch, lambda _lvl, ev, **f: log.append((ev, f)))
    assert counts == {"ingested": 1, "failed": 1}
    assert messages(sqlite_url) == 3
    assert (folder / PROCESSED / "good.jsonl").is_file()
    assert (folder / FAILED / "broken.bin").is_file()
    error = (folder / FAILED / "broken.bin.error.txt").read_text(encoding="utf-8")
    assert error.startswith("error: ") and "broken.bin" in error
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [".partial", "copying.jsonl"]
    dropped(folder, "good", 3)  # the same file again: kept apart, stores nothing new
    assert ingest_drop_folder(sqlite_url, watch, lambda *a, **k: None)["ingested"] == 1
    assert (folder / PROCESSED / "good.2.jsonl").is_file() and messages(sqlite_url) == 3


def test_scheduler_with_settings_watches_and_notifies(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    dropped(folder, "late", 2)  # unanswered tweets: a major nonconformity once checked
    policy = tmp_path / "scheduled.yaml"
    policy.write_text(
        EXAMPLE_POLICY.replace("controls:", "schedule: {every: 1s, window: 3650d}\ncontrols:"),
        encoding="utf-8",
    )
    hook = Hook()
    service = tmp_path / "service.yaml"
    service.write_text(
        f"notifications: {{webhook: {{url: '{hook.url}'}}}}\n"
        "watch:\n  - {folder: drop, every: 1s, settle: 1s}\n",
        encoding="utf-8",
    )
    process = start(db_url, policy, "--config", str(service))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            json.loads(body)["event"] == "new_major_nonconformity" for _, body in hook.requests
        ):
            assert process.poll() is None
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=60)
        hook.close()
    assert process.returncode == 0, log
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(e["event"] == "file ingested" for e in events), log
    assert any(e["event"] == "notification sent" for e in events), log
    assert (folder / PROCESSED / "late.jsonl").is_file()
    majors = [json.loads(b) for _, b in hook.requests]
    assert [m["nonconformity"] for m in majors if m["event"] == "new_major_nonconformity"] == [
        "NC-TW-FRT-01"
    ]  # once, although the check ran every second
