"""HTML to PDF through WeasyPrint; the only module that imports `weasyprint`.

The fetcher allows only `file:` and `data:` URLs, so nothing in a report (a customer's text
included) can make it fetch a remote resource. The run's JSON document is embedded as an
attachment so the PDF carries its own machine-readable evidence.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import ClassVar

import orjson

from iso_social.evidence.models import RecordedRun
from iso_social.report.base import ReportOptions
from iso_social.report.html import render_html

ALLOWED_PROTOCOLS = frozenset({"file", "data"})
# WeasyPrint logs font-subsetting advice as warnings; a library must not print them to a user's
# terminal through logging's last-resort handler. Applications that configure logging see them.
logging.getLogger("weasyprint").addHandler(logging.NullHandler())


def html_to_pdf(
    html: str,
    options: ReportOptions,
    *,
    title: str,
    description: str,
    created: str,
    generator: str,
    attachment: tuple[str, str, str] | None = None,
) -> bytes:
    """PDF/A-3b bytes of an HTML page with its metadata set; `attachment` is (name, text,
    description) of a file to embed. Remote URLs are refused."""
    import weasyprint

    fetcher = weasyprint.URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS)
    document = weasyprint.HTML(
        string=html, base_url=str(options.templates_dir), url_fetcher=fetcher
    ).render()
    metadata = document.metadata
    metadata.title = title
    metadata.authors = [options.organisation]
    metadata.description = description
    metadata.created = created
    metadata.generator = generator
    attachments = []
    if attachment is not None:
        name, text, about = attachment
        attachments.append(
            weasyprint.Attachment(string=text, name=name, description=about, url_fetcher=fetcher)
        )
    pdf = document.write_pdf(attachments=attachments, pdf_variant="pdf/a-3b")
    assert isinstance(pdf, bytes)  # noqa: S101
    return pdf


class PdfReporter:
    """The audit-evidence PDF."""

    name: ClassVar[str] = "pdf"
    suffix: ClassVar[str] = ".pdf"

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """Render the report to PDF bytes with metadata and the results JSON attached."""
        return html_to_pdf(
            render_html(run, options, for_print=True),
            options,
            title=f"Customer-service audit evidence — run {run.run_id}",
            description=f"iso-social {run.document['tool_version']} run {run.run_id}, "
            f"window {run.document['window']['from']} to {run.document['window']['to']}",
            created=datetime.fromisoformat(run.document["created_at"]).isoformat(),
            generator=f"iso-social {run.document['tool_version']}",
            attachment=(
                "results.json",
                orjson.dumps(run.output_document()).decode("utf-8"),
                "Run results (iso-social JSON, schema 1)",
            ),
        )
