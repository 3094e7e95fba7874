"""Settings (shipped resources and the settings file are found by `iso_social.locations`).

Settings come from, highest first: command-line options, `ISO_SOCIAL_<FIELD>` environment
variables, the settings file (`iso-social.toml` in the working folder, or the file named by
`ISO_SOCIAL_SETTINGS_FILE`), then the defaults below.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from iso_social.errors import ConfigError
from iso_social.i18n import Language
from iso_social.locations import resource_dir as resource_dir  # re-exported: callers use config
from iso_social.locations import settings_file

DEFAULT_DB_URL = "sqlite:///iso_social.db"
# the reports' colours unless the settings name others (templates/report.css starts with them)
PRIMARY_COLOUR, ACCENT_COLOUR = "#1f4e79", "#eef2f6"


class Settings(BaseSettings):
    """Runtime settings; each field also reads the environment variable `ISO_SOCIAL_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="ISO_SOCIAL_", extra="forbid")

    db: str = Field(default=DEFAULT_DB_URL, description="SQLAlchemy database URL")
    templates_dir: Path = Field(
        default_factory=lambda: resource_dir("templates"),
        description="a folder of report templates; a file here replaces the shipped file of "
        "the same name, the others stay the shipped ones",
    )
    policies_dir: Path = Field(default_factory=lambda: resource_dir("policies"))
    organisation: str = Field(default="Example Organisation", description="shown on reports")
    report_lang: Language = Field(default="en", description="language of reports")
    logo: Path | None = Field(
        default=None, description="the organisation's logo on report covers (SVG, PNG or JPEG)"
    )
    primary_colour: str = Field(
        default=PRIMARY_COLOUR,
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="headings and rules of reports, as #rrggbb",
    )
    accent_colour: str = Field(
        default=ACCENT_COLOUR,
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="shaded bands of reports, as #rrggbb (keep it light)",
    )
    report_rows: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="cases listed per control in a report; the rest are in results.json",
    )
    retention_days: int = Field(
        default=1095, ge=1, description="how long conversation content is kept (days)"
    )
    check_workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="processes `check` runs in (Linux): each reads and counts a run of the "
        "window's conversations, or, when a control type needs them all, evaluates whole "
        "controls and may come to hold much of the window's memory; 0 (the default): one "
        "per core when the window is large and can be split by conversation, else one",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Options, then the environment, then the settings file."""
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, settings_file()),
        )


def load_settings() -> Settings:
    """Settings from the environment and the settings file; a `ConfigError` naming the file,
    the setting and the fix when one is wrong."""
    source = settings_file()
    try:
        return Settings()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            str(source), f"not valid TOML ({exc})", hint="fix the line named, or remove the file"
        ) from None
    except OSError as exc:
        raise ConfigError(str(source), f"cannot read the settings file ({exc.strerror})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        known = ", ".join(Settings.model_fields)
        raise ConfigError(
            f"{source} or ISO_SOCIAL_{name.upper()}",
            f"setting '{name}': {first['msg']}",
            hint=f"the settings are: {known}",
        ) from None
