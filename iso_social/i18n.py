"""What every layer shares about languages: the report languages, and the gettext marker
`N_("text")`, which marks a text for the report catalogs (`templates/locale/*.po`) and returns it
unchanged; the report translates it where it is shown."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["en", "es"]  # English is the source text; each other one has a catalog
LANGUAGES: tuple[str, ...] = get_args(Language)


def N_(message: str) -> str:
    """Mark `message` for the catalogs; it is translated where it is shown."""
    return message
