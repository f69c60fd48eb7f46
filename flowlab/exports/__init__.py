"""Transcripts of a run: Markdown, a curl script, a ``.http`` file, JSON and HAR 1.2.

Each exporter takes the run, its flow and the run's ``Redactor`` and returns text.
Everything comes from the captured exchanges, never reconstructed. Secrets and tokens
are masked unless the redactor reveals them, and it may do so only for the sandbox:
for any other provider the exporters mask regardless of what they were given.

The curl script and the ``.http`` file replay the back-channel requests. Every secret
in them is a variable set once at the top (``CLIENT_SECRET``, ``ACCESS_TOKEN``, …),
filled in when secrets are included and left empty, for the user, when masked.
"""

from __future__ import annotations

from .curl import curl_script
from .har import har
from .har import to_json
from .httpfile import http_file
from .markdown import markdown

EXPORTERS = {"md": markdown, "sh": curl_script, "http": http_file, "json": to_json,
             "har": har}
