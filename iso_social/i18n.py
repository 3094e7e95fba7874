"""The gettext marker shared by every layer: `N_("text")` marks a text for the report catalogs
(`templates/locale/*.po`) and returns it unchanged; the report translates it where it is shown."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark `message` for the catalogs; it is translated where it is shown."""
    return message
