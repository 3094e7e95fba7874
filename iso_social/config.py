"""Settings and the one place where paths to shipped resources are resolved.

`templates/`, `policies/` and `schemas/` live at the repository root. A wheel carries them as
`iso_social/_data/<name>`; an editable install finds them next to the package.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_PACKAGE_DIR = Path(__file__).resolve().parent

DEFAULT_DB_URL = "sqlite:///iso_social.db"


def resource_dir(name: str) -> Path:
    """Return the shipped resource folder `name` (templates, policies or schemas)."""
    bundled = _PACKAGE_DIR / "_data" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / name


class Settings(BaseSettings):
    """Runtime settings; each field also reads the environment variable `ISO_SOCIAL_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="ISO_SOCIAL_", extra="ignore")

    db: str = Field(default=DEFAULT_DB_URL, description="SQLAlchemy database URL")
    templates_dir: Path = Field(default_factory=lambda: resource_dir("templates"))
    policies_dir: Path = Field(default_factory=lambda: resource_dir("policies"))
    organisation: str = Field(default="Example Organisation", description="shown on reports")
    retention_days: int = Field(
        default=1095, ge=1, description="how long conversation content is kept (days)"
    )
