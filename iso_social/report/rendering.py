"""What every HTML report shares: the Jinja2 environment, the language, the organisation's look.

- Templates: a file in the user's folder (`templates_dir` setting) replaces the shipped file of
  the same name; every other file stays the shipped one. Autoescape is on for every file and an
  undefined name is an error.
- Language: English is the source text; other languages are gettext catalogs in
  `templates/locale/<lang>.po`, compiled when first used. Templates write `{{ _("...") }}`;
  Python marks its labels with `N_` and translates them where they are shown. Dates and
  percentages are written the language's way (Babel). Findings' statements and details are
  quoted as the run recorded them: evidence is not rewritten.
- Look: the organisation's colours become the stylesheet's `--accent` and `--band`; its logo is
  embedded in the page as a `data:` URL (never fetched from elsewhere).
"""

from __future__ import annotations

import base64
import gettext
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iso_social.errors import ConfigError
from iso_social.i18n import LANGUAGES, N_
from iso_social.report.base import ReportOptions

if TYPE_CHECKING:
    import jinja2

LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
LOGO_MAX_BYTES = 2_000_000


VERDICT_LABEL = {
    "conforms": N_("Conforms"),
    "observation": N_("Observation"),
    "minor_nonconformity": N_("Minor nonconformity"),
    "major_nonconformity": N_("Major nonconformity"),
    "not_evaluated": N_("Not evaluated"),
    "waived": N_("Waived"),
}
GRADE_LABEL = {
    "major": N_("Major nonconformity"),
    "minor": N_("Minor nonconformity"),
    "observation": N_("Observation"),
}
GRADE_SHORT = {"major": N_("major"), "minor": N_("minor"), "observation": N_("observation")}
STATUS_LABEL = {
    "open": N_("open"),
    "action_planned": N_("action planned"),
    "action_taken": N_("action taken"),
    "verifying": N_("verifying effectiveness"),
    "closed": N_("closed"),
    "reopened": N_("reopened"),
}


@cache
def translations(locale_dir: Path, lang: str) -> gettext.NullTranslations:
    """The gettext catalog of `lang` (English: the source text itself)."""
    if lang not in LANGUAGES:
        raise ConfigError(
            "report_lang",
            f"'{lang}' is not a report language",
            hint=f"use {' or '.join(LANGUAGES)}",
        )
    if lang == "en":
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with (locale_dir / f"{lang}.po").open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translator(options: ReportOptions) -> Callable[[str], str]:
    """`gettext` in the report's language."""
    return translations(options.templates_dir / "locale", options.lang).gettext


def labelled(gettext: Callable[[str], str], labels: dict[str, str], key: str) -> str:
    """The translated label of `key` in a table of `N_` labels; the key itself, words spaced,
    when the table has none (a verdict or measure added by a plug-in)."""
    return gettext(labels[key]) if key in labels else key.replace("_", " ")


def channel_totals(
    controls: Iterable[Mapping[str, Any]], *, whole_controls: bool = False
) -> dict[str, tuple[int, int]]:
    """Population and conforming count per channel, by channel name, over the per-channel
    counts the controls keep (`by_channel` measures); with `whole_controls`, a control that
    keeps none counts whole for its one channel."""
    totals: dict[str, tuple[int, int]] = {}
    for control in controls:
        by_channel = control["measures"].get("by_channel") or {}
        if by_channel:
            parts = [(name, v["population"], v["conforming"]) for name, v in by_channel.items()]
        elif whole_controls and len(control["channels"]) == 1:
            parts = [(control["channels"][0], control["population"], control["conforming"])]
        else:
            continue
        for name, population, conforming in parts:
            n, ok = totals.get(name, (0, 0))
            totals[name] = (n + population, ok + conforming)
    return dict(sorted(totals.items()))


def environment(options: ReportOptions) -> jinja2.Environment:
    """The Jinja2 environment: the user's templates first, then the shipped ones."""
    import jinja2

    folders = [options.templates_dir]
    if options.user_templates_dir is not None:
        if not options.user_templates_dir.is_dir():
            raise ConfigError(
                "templates_dir",
                f"{options.user_templates_dir} is not a folder",
                hint="point ISO_SOCIAL_TEMPLATES_DIR (or templates_dir in iso-social.toml) at a "
                "folder of templates that replace shipped ones",
            )
        folders.insert(0, options.user_templates_dir)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]  # added by the i18n extension
        translations(options.templates_dir / "locale", options.lang), newstyle=True
    )
    return env


def page(env: jinja2.Environment, options: ReportOptions, *, for_print: bool) -> dict[str, Any]:
    """What every page template reads besides its own data: language, organisation, logo, CSS."""
    assert env.loader is not None  # noqa: S101
    css, _, _ = env.loader.get_source(env, "report.css")
    branding = options.branding
    css += f"\n:root {{ --accent: {branding.primary_colour}; --band: {branding.accent_colour}; }}\n"
    return {
        "lang": options.lang,
        "organisation": options.organisation,
        "logo": logo_url(branding.logo) if branding.logo is not None else None,
        "css": css,
        "for_print": for_print,
    }


def logo_url(path: Path) -> str:
    """The logo as a `data:` URL, so the page needs no other file and fetches nothing."""
    kind = LOGO_TYPES.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(
            "logo", f"{path}: a logo must be .svg, .png, .jpg or .jpeg", hint="convert it first"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            "logo",
            f"cannot read {path} ({exc.strerror})",
            hint="give the path of an SVG, PNG or JPEG",
        ) from None
    if len(data) > LOGO_MAX_BYTES:
        raise ConfigError("logo", f"{path} is larger than 2 MB", hint="use a smaller image")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def moment(value: str | datetime, lang: str, pattern: str = "dd MMM y HH:mm 'UTC'") -> str:
    """A UTC timestamp in a CLDR `pattern`, the language's way: `01 Oct 2026 09:30 UTC`
    (`01 oct 2026 09:30 UTC` in Spanish)."""
    from babel.dates import format_datetime

    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return str(format_datetime(at, pattern, tzinfo=UTC, locale=lang))


def percent(value: float | None, lang: str) -> str:
    """A share with one decimal the language's way: `72.5%`, `72,5 %`; or `–`."""
    if value is None:
        return "–"
    from babel import Locale
    from babel.numbers import parse_pattern

    pattern = parse_pattern(Locale.parse(lang).percent_formats[None].pattern)
    pattern.frac_prec = (1, 1)
    return str(pattern.apply(value, lang))
