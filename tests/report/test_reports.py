"""Reporters render a recorded run: JSON to the published schema, HTML escaped, PDF smoke."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import jsonschema
import pypdf
import pytest

from iso_social import pipeline
from iso_social.config import Settings, resource_dir
from iso_social.evidence.models import RecordedRun
from iso_social.policy import load_policies
from iso_social.report import REPORTERS, ReportFormat
from iso_social.report.pdf import ALLOWED_PROTOCOLS
from tests.conftest import canonical_message, write_jsonl

HOSTILE = '<img src="http://attacker.example/x.png"><script>alert(1)</script>'


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> RecordedRun:
    """A run over a small data set whose ids and details include markup."""
    folder = tmp_path_factory.mktemp("run")
    log = write_jsonl(
        folder / "log.jsonl",
        [
            canonical_message("m1", "2026-10-05T09:00:00Z", conversation_id=HOSTILE, text=HOSTILE),
            canonical_message(
                "m2",
                "2026-10-05T12:00:00Z",
                conversation_id=HOSTILE,
                direction="outbound",
                author="@brand",
                author_role="agent",
            ),
            canonical_message("m3", "2026-10-05T09:00:00Z", conversation_id="ok"),
            canonical_message(
                "m4",
                "2026-10-05T09:05:00Z",
                conversation_id="ok",
                direction="outbound",
                author="@brand",
                author_role="agent",
            ),
        ],
    )
    db = f"sqlite:///{folder / 'r.db'}"
    pipeline.ingest_logs([log], db=db)
    from datetime import UTC, datetime

    return pipeline.run_check(
        load_policies([resource_dir("policies")]),
        db=db,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 11, 1, tzinfo=UTC),
    )


def render(run: RecordedRun, fmt: ReportFormat) -> bytes:
    return pipeline.render_report(run, fmt, Settings())


def test_every_format_has_a_reporter() -> None:
    assert set(REPORTERS) == set(ReportFormat)
    for fmt, reporter in REPORTERS.items():
        assert reporter.name == fmt.value


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_every_reporter_renders_the_sample_run(sample_run: RecordedRun, fmt: ReportFormat) -> None:
    assert render(sample_run, fmt)


def test_json_validates_against_the_published_schema(sample_run: RecordedRun) -> None:
    schema = json.loads((resource_dir("schemas") / "check-result.schema.json").read_text())
    document = json.loads(render(sample_run, ReportFormat.JSON))
    jsonschema.validate(document, schema)
    (frt,) = [c for c in document["controls"] if c["id"] == "TW-FRT-01"]
    assert frt["population"] == 2 and frt["verdict"] == "major_nonconformity"
    assert frt["evidence"][0]["conversation_id"] == HOSTILE
    assert document["integrity"]["run_sha256"] == sample_run.digest


def test_html_escapes_everything_from_the_data(sample_run: RecordedRun) -> None:
    html = render(sample_run, ReportFormat.HTML).decode()
    assert "<script>" not in html and '<img src="http' not in html
    assert "&lt;script&gt;" in html


def test_pdf_has_cover_results_metadata_and_the_json_attached(sample_run: RecordedRun) -> None:
    data = render(sample_run, ReportFormat.PDF)
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    cover = reader.pages[0].extract_text()
    assert "Results of the control checks" in cover and "TW-FRT-01" in cover
    assert "Major nonconformity" in cover
    appendix = "".join(page.extract_text() for page in reader.pages[-3:]).replace("\n", "")
    assert sample_run.digest in appendix
    assert reader.metadata is not None and sample_run.run_id in (reader.metadata.title or "")
    attached = json.loads(reader.attachments["results.json"][0])
    assert attached == json.loads(render(sample_run, ReportFormat.JSON))


def test_pdf_fetcher_refuses_remote_urls() -> None:
    assert {"file", "data"} == ALLOWED_PROTOCOLS


def test_a_pdf_never_fetches_a_remote_url(tmp_path: Path) -> None:
    """Even markup that reached the page unescaped (a user's own template, say) fetches
    nothing: a local server counts requests while a page with remote images renders."""
    import http.server
    import threading

    import weasyprint

    hits: list[str] = []

    class Count(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        html = (
            f'<link rel="stylesheet" href="{url}/a.css"><img src="{url}/b.png">'
            f'<p style="background: url({url}/c.png)">x</p>'
        )
        fetcher = weasyprint.URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS)
        pdf = weasyprint.HTML(string=html, base_url=str(tmp_path), url_fetcher=fetcher).write_pdf()
        assert pdf is not None and pdf.startswith(b"%PDF-")
        assert hits == []
        unguarded = weasyprint.HTML(string=html, base_url=str(tmp_path)).write_pdf()
        assert unguarded is not None and hits  # the server would have seen a fetch
    finally:
        server.shutdown()
        server.server_close()


def test_templates_ship_with_the_settings() -> None:
    assert (Settings().templates_dir / "report.html.j2").is_file()
    assert Path(Settings().policies_dir).is_dir()


def test_pdf_is_pdf_a_3b(sample_run: RecordedRun) -> None:
    reader = pypdf.PdfReader(io.BytesIO(render(sample_run, ReportFormat.PDF)))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")B", xmp)


def test_contents_list_every_section_with_its_page(sample_run: RecordedRun) -> None:
    reader = pypdf.PdfReader(io.BytesIO(render(sample_run, ReportFormat.PDF)))
    pages = [page.extract_text() for page in reader.pages]
    contents = next(text for text in pages if "Contents" in text.splitlines())
    text = re.sub(r"\.{3,}", " ", contents)
    for control in sample_run.document["controls"]:
        found = re.search(rf"\. {re.escape(control['id'])} — .*?(\d+)\s*$", text, re.S | re.M)
        assert found, control["id"]
        page = int(found.group(1))
        assert control["id"] in pages[page - 1], (control["id"], page)  # the number is right
    lines = text.splitlines()
    for title in ("Scope, method and summary", "Waivers in force", "Nonconformity register"):
        assert any(title in x for x in lines)


def test_summary_has_a_vector_chart_of_every_evaluated_control(sample_run: RecordedRun) -> None:
    html = render(sample_run, ReportFormat.HTML).decode()
    chart = html[html.index("<svg") : html.index("</svg>")]
    evaluated = [c for c in sample_run.document["controls"] if c["rate"] is not None]
    assert chart.count("<rect ") == len(evaluated) > 0
    for control in evaluated:
        assert f">{control['id']}</text>" in chart


def test_parameters_read_as_text_not_as_python(sample_run: RecordedRun) -> None:
    html = render(sample_run, ReportFormat.HTML).decode()
    assert "{&#39;" not in html and "{'" not in html
    assert ": None" not in html  # an unset setting (a trigger's age or words) reads as –
    # each of a list's settings of their own (escalation triggers) reads apart from the next
    triggers = re.search(r"triggers = \(([^()<]*)\), \(([^()<]*)\)</td>", html)
    assert triggers is not None
    assert {"level: supervisor", "after: 2 d", "words: –"} <= set(triggers[1].split("; "))
    assert {"level: legal", "after: –", "deadline: 24 h"} <= set(triggers[2].split("; "))
    assert "Waivers in force" in html
