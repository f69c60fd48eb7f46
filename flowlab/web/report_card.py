"""A provider's report card (issue 22 §4) at ``/inspect/report``: the form, and with
``?issuer=`` the card, a page of its own to link to and print. The sandbox's
issuers are read from the app's own metadata; any other issuer's metadata is
fetched (``core.inspect.report.fetch``) only when the browser itself asks."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request

from flowlab.core import outbound
from flowlab.core.content import render_markdown
from flowlab.core.discovery import DiscoveryFailed
from flowlab.core.inspect import report
from flowlab.core.providers import ProviderError
from flowlab.web.providers import remote_requester
from flowlab.web.sandbox.context import sandbox
from flowlab.web.session import app_config
from flowlab.web.session import get_content
from flowlab.web.session import lab_hosts
from flowlab.web.session import runner

bp = Blueprint("report_card", __name__)
DATA = "inspect/report-card"


@bp.get("/inspect/report")
def show():
    """The form; with ``issuer``, that issuer's card (or why there is none)."""
    data = get_content().data(DATA)
    issuer = request.args.get("issuer", "").strip()
    own = {request.host_url + p.path.lstrip("/"): p for p in sandbox().profiles.all}

    def page(status: int = 200, **found):
        return render_template("inspect/report.html", data=data, issuer=issuer,
                               own=own, verdicts=report.VERDICTS,
                               md=render_markdown, **found), status

    if not issuer:
        return page()
    public_url = app_config().get("PUBLIC_URL")
    if profile := own.get(issuer.rstrip("/")):
        url = issuer.rstrip("/")
        metadata = sandbox().metadata(profile, url)
        return page(card=report.card(url, "", metadata, data, public_url))
    if not _asked():
        return page(403, error=data["page"]["not_asked"])
    settings = runner().settings
    texts = get_content().data("providers")["discovery"]
    try:
        with outbound.limits(settings.deadline, remote_requester()):
            metadata, source = report.fetch(issuer, texts, settings.timeout,
                                            hosts=lab_hosts())
    except DiscoveryFailed as exc:  # the provider answered badly, or not at all
        return page(502, error=str(exc))
    except ProviderError as exc:  # refused before or while fetching
        return page(400, error=str(exc))
    return page(card=report.card(metadata["issuer"], source, metadata, data,
                                 public_url))


def _asked() -> bool:
    """Whether the browser itself asked, following a link or sending the form (a
    navigation, by its Fetch Metadata headers), not an image or a script that
    another page embeds. Clients that send no such headers are taken at their word."""
    return (request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate"
            and request.headers.get("Sec-Fetch-Dest", "document") == "document")
