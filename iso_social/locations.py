"""Where the shipped resources and the settings file are, with nothing but the standard
library: commands that only need a path (`policy validate`) find it without loading the
settings machinery.

`templates/`, `policies/` and `schemas/` live at the repository root. A wheel carries them as
`iso_social/_data/<name>`; an editable install finds them next to the package.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the shipped resource folder `name` (templates, policies or schemas)."""
    bundled = _PACKAGE_DIR / "_data" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / name


def settings_file() -> Path:
    """The settings file: `ISO_SOCIAL_SETTINGS_FILE`, else `iso-social.toml` in the working folder
    (neither needs to exist)."""
    return Path(os.environ.get("ISO_SOCIAL_SETTINGS_FILE") or "iso-social.toml")


def may_be_configured(field: str) -> bool:
    """Whether the setting `field` may differ from its default: its `ISO_SOCIAL_<FIELD>` variable
    is set (in any case, as the settings read it) or a settings file exists."""
    name = f"ISO_SOCIAL_{field}".upper()
    return any(key.upper() == name for key in os.environ) or settings_file().exists()
