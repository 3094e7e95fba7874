"""The scheduler's service settings (`schedule run --config FILE`) and its drop-folder ingest.

The settings file is YAML and holds no secrets: where a secret is needed (an SMTP password, a
webhook's signing key) it names the environment variable that holds it. It declares where
notifications go (see `notify`) and which drop folders to watch:

    notifications:
      due_within: 15m
      webhook: {url: "https://hooks.example.com/iso-social", secret_env: ISO_SOCIAL_WEBHOOK_KEY}
      email: {host: smtp.example.com, sender: iso-social@example.com,
              recipients: [quality@example.com], username: bot, password_env: SMTP_PASSWORD}
    watch:
      - folder: /srv/iso-social/drop/twitter
        every: 1m
        brands: [AcmeHelp]

A drop folder's job ingests every file that has not changed for `settle` (so a file still being
copied is left for the next round), one file per transaction, then moves it to `processed/`,
or to `failed/` beside a `.error.txt` naming the problem. Nothing is lost: a failed file waits
there to be fixed and dropped again, and re-ingesting a file stores only what is new.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from iso_social import pipeline
from iso_social.clock import Duration, format_duration
from iso_social.errors import ConfigError, IsoSocialError
from iso_social.notify import NotificationSettings

Log = Callable[..., None]
PROCESSED, FAILED = "processed", "failed"


class WatchFolder(BaseModel):
    """A drop folder whose new files are ingested on a schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: Path
    every: Duration = timedelta(minutes=1)
    settle: Duration = timedelta(seconds=10)
    format: str = "auto"
    assume_tz: str | None = None
    brands: list[str] = Field(default_factory=list)
    support: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)
    bots: list[str] = Field(default_factory=list)
    mapping: Path | None = None
    pseudonymise: bool = False

    @property
    def job_id(self) -> str:
        """The scheduler's id of this folder's job."""
        return f"ingest:{self.folder}"


class ServiceSettings(BaseModel):
    """Everything `schedule run` takes besides the policies and the database."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notifications: NotificationSettings | None = None
    watch: list[WatchFolder] = Field(default_factory=list)


def load_service_settings(path: Path) -> ServiceSettings:
    """Read and validate the settings file; errors name the file and the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read the settings file ({exc.strerror})") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(where, "not valid YAML", hint="check indentation and quoting") from exc
    try:
        settings = ServiceSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(
            f"{path}: {location}",
            first["msg"],
            hint="see docs/scheduling.md for the settings file's fields",
        ) from None
    base = path.parent
    return settings.model_copy(
        update={
            "watch": [
                w.model_copy(update={"folder": (base / w.folder).resolve()}) for w in settings.watch
            ]
        }
    )


def _ready(folder: Path, settle: timedelta) -> list[Path]:
    """Files directly in the folder, not hidden, unchanged for `settle`."""
    if not folder.is_dir():
        raise ConfigError(str(folder), "the drop folder does not exist", hint="create it")
    cutoff = time.time() - settle.total_seconds()
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.stat().st_mtime <= cutoff
    )


def _move(path: Path, to: str) -> Path:
    target_dir = path.parent / to
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    n = 1
    while target.exists():  # the same name dropped twice: keep both
        n += 1
        target = target_dir / f"{path.stem}.{n}{path.suffix}"
    return path.rename(target)


def ingest_drop_folder(db: str, watch: WatchFolder, log: Log) -> dict[str, int]:
    """Ingest the folder's settled files, one transaction each; never raises."""
    counts = {"ingested": 0, "failed": 0}
    try:
        files = _ready(watch.folder, watch.settle)
    except IsoSocialError as exc:
        log(logging.ERROR, "drop folder unusable", folder=str(watch.folder), error=exc.message)
        return counts
    for path in files:
        try:
            summary = pipeline.ingest_logs(
                [path],
                db=db,
                fmt=watch.format,
                assume_tz=watch.assume_tz,
                brands=watch.brands,
                support=watch.support,
                agents=watch.agents,
                bots=watch.bots,
                mapping=watch.mapping,
                pseudonymise=watch.pseudonymise,
            )
        except IsoSocialError as exc:
            moved = _move(path, FAILED)
            moved.with_name(moved.name + ".error.txt").write_text(
                f"error: {exc.message}\n" + (f"hint: {exc.hint}\n" if exc.hint else ""),
                encoding="utf-8",
            )
            counts["failed"] += 1
            log(logging.ERROR, "ingest failed", file=str(moved), error=exc.message)
            continue
        except Exception as exc:  # a job must never bring the scheduler down
            counts["failed"] += 1
            log(logging.ERROR, "ingest crashed", file=str(path), error=type(exc).__name__)
            continue
        (file,) = summary.files
        moved = _move(path, PROCESSED)
        counts["ingested"] += 1
        log(
            logging.INFO,
            "file ingested",
            file=str(moved),
            sha256=file.sha256,
            records=file.records_read,
            stored=file.messages_stored + file.other_stored,
            duplicates=file.duplicates,
            rejected=file.rejected_count,
        )
    return counts


def describe(watch: WatchFolder) -> str:
    """The job in words, for `schedule list`."""
    every, settle = (format_duration(d.total_seconds()) for d in (watch.every, watch.settle))
    return f"every {every}, files settled for {settle}, format {watch.format}"


def settings_summary(settings: ServiceSettings) -> dict[str, Any]:
    """What is configured, without secrets, for the start-up log line."""
    notifications = settings.notifications
    return {
        "webhook": bool(notifications and notifications.webhook),
        "email": bool(notifications and notifications.email),
        "watch": [str(w.folder) for w in settings.watch],
    }
