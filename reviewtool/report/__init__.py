"""Renderers: the only place that prints or formats. One module per format."""

# --format name -> the report module whose render(series, check, apply=None, **options) -> str
FORMATS: dict[str, str] = {
    "text": "reviewtool.report.terminal",
    "json": "reviewtool.report.json_report",
    "markdown": "reviewtool.report.markdown",
    "sarif": "reviewtool.report.sarif",
    "b4": "reviewtool.report.b4check",
    "patchwork": "reviewtool.report.patchwork",
    "email": "reviewtool.report.email",
}
