"""The evidence pack's store-backed sections, its languages and the organisation's look."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdf
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from iso_social import pipeline
from iso_social.cli import app
from iso_social.config import Settings, load_settings, resource_dir
from iso_social.errors import ConfigError
from iso_social.policy import load_policies
from iso_social.report import ReportFormat
from tests.conftest import canonical_message, write_jsonl
from tests.report.conftest import check_demo

HOSTILE = '<img src="http://attacker.example/x.png"><script>alert(1)</script>'
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo data checked twice (a trend), a sample drawn and reviewed, an owner set."""
    db, _ = check_demo(tmp_path_factory.mktemp("pack"), 1200)
    pipeline.run_check(
        load_policies([resource_dir("policies")]),
        db=db,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 10, 20, tzinfo=UTC),
    )
    pipeline.run_check(
        load_policies([resource_dir("policies")]),
        db=db,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 11, 1, tzinfo=UTC),
    )
    sample = pipeline.draw_sample(db, "TW-FRT-01", seed=3)
    pipeline.record_sample_review(db, sample.id, sample.items[0], "nonconforming", "Ana QM")
    pipeline.update_nonconformity(
        db, "NC-TW-FRT-01", "Ana QM", owner="Social team lead", due_date=date(2026, 12, 1)
    )
    return db


def pack_html(db: str, settings: Settings | None = None) -> str:
    data, _ = pipeline.render_evidence_pack(db, "latest", ReportFormat.HTML, settings or Settings())
    return data.decode("utf-8")


def test_the_pack_shows_trend_distribution_samples_and_the_register(audited: str) -> None:
    html = pack_html(audited)
    assert "Trend across runs" in html and 'aria-label="Controls by verdict in each run"' in html
    assert "First-response time by channel" in html and "TW-FRT-01 · twitter" in html
    assert "Compliance by channel" in html
    sample = pipeline.load_run(audited).document  # the sample's section names its control
    assert "Sample for manual review" in html and "Ana QM" in html
    register = html[html.index('id="s-register"') :]
    assert "Social team lead" in register and "2026-12-01" in register
    assert "0 of 2 conforming runs" in register
    assert sample["run_id"] in register  # the command for the nonconformity reports


def test_the_distribution_accounts_for_every_measured_conversation(audited: str) -> None:
    controls = pipeline.load_run(audited).document["controls"]
    measured = [c for c in controls if c["type"] == "first_response_time" and c["population"]]
    assert measured
    for control in measured:
        shape = control["measures"]["distribution"]
        assert len(shape["bands_seconds"]) + 1 == len(
            next(iter(shape["by_channel"].values()))["answered"]
        )
        for channel, counts in shape["by_channel"].items():
            total = sum(counts["answered"]) + counts["unanswered"]
            assert total == control["measures"]["by_channel"][channel]["population"], channel
        assert (
            sum(counts["unanswered"] for counts in shape["by_channel"].values())
            == control["measures"]["unanswered"]
        )


def test_case_excerpts_are_masked_and_escaped(tmp_path: Path) -> None:
    inbound = {"conversation_id": "c1", "visibility": "public"}
    log = write_jsonl(
        tmp_path / "log.jsonl",
        [
            canonical_message(
                "m1", "2026-10-05T09:00:00Z", text=f"card {CARD} {HOSTILE}", **inbound
            ),
            canonical_message(
                "m2", "2026-10-06T09:00:00Z", text="@someone " + "x" * 400, conversation_id="c2"
            ),
        ],
    )
    db = f"sqlite:///{tmp_path / 'x.db'}"
    pipeline.ingest_logs([log], db=db)
    pipeline.run_check(
        load_policies([resource_dir("policies")]),
        db=db,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 11, 1, tzinfo=UTC),
    )
    html = pack_html(db)
    excerpts = re.findall(r'class="excerpt">(.*?)</td>', html, re.S)
    assert excerpts
    assert not any(CARD in e or CARD.replace(" ", "") in e for e in excerpts)
    assert any("[card ••••1111]" in e and "&lt;script&gt;" in e for e in excerpts)
    assert "<script>" not in html and 'attacker.example/x.png">' not in html
    long = next(e for e in excerpts if "xxx" in e)
    assert long.startswith("@••• ") and long.endswith("…") and len(long) <= 160
    pipeline.purge_content(db, older_than=timedelta(days=1))
    assert "(content purged)" in pack_html(db)


def test_spanish_reports(audited: str) -> None:
    settings = Settings(report_lang="es")
    html = pack_html(audited, settings)
    for text in ("Alcance, método y resumen", "Registro de no conformidades", "Tendencia",
                 "Casos no conformes", "Página", '<html lang="es">'):  # fmt: skip
        assert text in html, text
    for english in ("Scope, method and summary", "Nonconforming cases", "Waivers in force"):
        assert english not in html, english
    assert re.search(r"\d{2} (oct|nov) 2026", html)
    assert re.search(r"\d,\d\s%", html)  # 72,5 %
    ncr, _, _ = pipeline.render_nonconformity_report(audited, "latest", [], "html", settings)
    assert "Declaración de la no conformidad" in ncr.decode() and "Firmas" in ncr.decode()
    review, _ = pipeline.render_management_review(audited, "html", settings)
    assert "Oportunidades de mejora" in review.decode()


def test_every_report_text_has_a_spanish_translation() -> None:
    """Every text the templates and report code mark has a translation with the same
    placeholders: a new or changed text fails here until es.po is updated."""
    root = resource_dir("templates").parent
    config = (resource_dir("templates") / "locale" / "babel.cfg").read_text(encoding="utf-8")
    method_map = [
        (re.sub(r"\*\*", "**", pattern), method)
        for method, pattern in re.findall(r"^\[(\w+): ([^\]]+)\]", config, re.M)
    ]
    options = {"templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
    extracted = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            str(root), method_map, options_map=options, keywords={"_": None, "N_": None}
        )
    }
    assert len(extracted) > 150
    with (resource_dir("templates") / "locale" / "es.po").open("rb") as source:
        catalog = read_po(source)
    for message in extracted:
        entry = catalog.get(message)
        assert entry is not None and entry.string and not entry.fuzzy, message
        placeholders = sorted(re.findall(r"%\(\w+\)s|%%", message))
        assert sorted(re.findall(r"%\(\w+\)s|%%", entry.string)) == placeholders, message


def test_organisation_logo_and_colours_from_the_settings_file(
    audited: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"/>')
    (tmp_path / "iso-social.toml").write_text(
        'organisation = "Banco Ejemplo"\n'
        f'logo = "{logo}"\n'
        'primary_colour = "#7a1f5c"\n'
        'report_lang = "es"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.organisation == "Banco Ejemplo" and settings.report_lang == "es"
    html = pack_html(audited, settings)
    assert "Banco Ejemplo" in html and "data:image/svg+xml;base64," in html
    assert "--accent: #7a1f5c" in html
    monkeypatch.setenv("ISO_SOCIAL_ORGANISATION", "From the environment")
    assert load_settings().organisation == "From the environment"  # the environment wins
    pdf, _ = pipeline.render_evidence_pack(audited, "latest", ReportFormat.PDF, settings)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None and reader.metadata.author == "Banco Ejemplo"
    assert "Banco Ejemplo" in reader.pages[0].extract_text()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('primary_colour = "blue"\n', "primary_colour"),
        ('report_lang = "fr"\n', "report_lang"),
        ('organisaton = "typo"\n', "organisaton"),
        ('organisation = "unterminated\n', "not valid TOML"),
    ],
)
def test_a_wrong_setting_names_the_file_and_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, named: str
) -> None:
    (tmp_path / "iso-social.toml").write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "iso-social.toml" in str(raised.value) and named in str(raised.value)
    result = CliRunner().invoke(app, ["report", "--db", "sqlite:///x.db"])
    assert result.exit_code == 2 and "iso-social.toml" in result.output
    assert "Traceback" not in result.output


def test_a_missing_logo_is_a_clear_error(audited: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="logo"):
        pack_html(audited, Settings(logo=tmp_path / "nope.png"))
    (tmp_path / "logo.gif").write_bytes(b"GIF89a")
    with pytest.raises(ConfigError, match=r"\.svg, \.png"):
        pack_html(audited, Settings(logo=tmp_path / "logo.gif"))


def test_a_user_template_replaces_only_its_own_file(audited: str, tmp_path: Path) -> None:
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "cover.html.j2").write_text(
        '<section class="cover"><h1>{{ organisation }}: our own cover</h1></section>',
        encoding="utf-8",
    )
    html = pack_html(audited, Settings(templates_dir=tmp_path))
    assert "our own cover" in html
    assert "Results of the control checks" not in html  # the shipped cover is replaced
    assert "Appendix: integrity of this evidence" in html  # the other sections are shipped
    with pytest.raises(ConfigError, match="templates_dir"):
        pack_html(audited, Settings(templates_dir=tmp_path / "missing"))


def test_report_command_writes_the_pack_in_spanish(
    audited: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ISO_SOCIAL_REPORT_LANG", "es")
    result = CliRunner().invoke(app, ["report", "--db", audited, "-o", "pack.html"])
    assert result.exit_code == 0, result.output
    assert "Alcance, método y resumen" in (tmp_path / "pack.html").read_text(encoding="utf-8")


def test_lang_option_overrides_the_setting(audited: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["report", "--db", audited, "--lang", "es", "-o", str(tmp_path / "a.html")]
    )
    assert result.exit_code == 0, result.output
    assert "Alcance, método y resumen" in (tmp_path / "a.html").read_text(encoding="utf-8")
    result = runner.invoke(app, ["report", "--db", audited, "--lang", "fr", "-o", "x.html"])
    assert result.exit_code == 2 and "--lang" in result.output and "use en or es" in result.output
