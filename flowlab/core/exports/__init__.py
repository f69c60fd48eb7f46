"""Transcripts of a run: Markdown, a curl script, a ``.http`` file, JSON and HAR 1.2.

Each exporter takes the run, its flow and the run's ``Redactor`` and returns text.
Everything comes from the captured exchanges, never reconstructed. Every value is
written through the one function its format has in ``escape`` (quoted shell words,
clean comment lines, ``.http`` lines without template syntax, Markdown without HTML),
or through ``json`` for JSON and HAR, so nothing a provider sent can break out.
Secrets and tokens are masked unless the redactor reveals them, and it may do so only
for the sandbox: for any other provider the exporters mask regardless of what they
were given.

The curl script and the ``.http`` file run the flow again rather than replay it: a
fresh state and PKCE verifier, a code pasted from the browser, tokens taken from each
answer; the run's spent code and tokens are never sent. A device run's
script asks for new device and user codes and polls until the user approves
(``device``, RFC 8628 §3.4-§3.5). Only the client secret is
filled in, when secrets are included. Every export names the public address where
the run's calls went to the private back-channel port (``flowlab.core.publicurl``), and
says why once.
"""

from __future__ import annotations

from flowlab.core.exports.curl import curl_script
from flowlab.core.exports.har import har
from flowlab.core.exports.har import to_json
from flowlab.core.exports.httpfile import http_file
from flowlab.core.exports.markdown import markdown

EXPORTERS = {"md": markdown, "sh": curl_script, "http": http_file, "json": to_json,
             "har": har}
