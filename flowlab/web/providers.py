"""Choosing the provider a browser's runs go to: sandbox, Spotify, or any other."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from flowlab.core import discovery
from flowlab.core import outbound
from flowlab.core import providers
from flowlab.core.content import render_markdown
from flowlab.core.credentials import Choice
from flowlab.core.demo import CALLBACK_PATH
from flowlab.core.hosts import is_loopback_host
from flowlab.core.hosts import safe_next
from flowlab.core.provider import Provider
from flowlab.core.runner.callbacks import callback_path
from flowlab.core.runner.callbacks import for_issuer
from flowlab.core.runner.exchange import GRANT as TOKEN_EXCHANGE
from flowlab.web.session import addresses
from flowlab.web.session import app_config
from flowlab.web.session import browser_id
from flowlab.web.session import forget_choice
from flowlab.web.session import get_choice
from flowlab.web.session import get_content
from flowlab.web.session import lab_hosts
from flowlab.web.session import note_missing_backchannel
from flowlab.web.session import put_choice
from flowlab.web.session import runner

bp = Blueprint("providers", __name__)
KINDS = ("sandbox", "spotify", "discovered")


def public(text: str) -> str:
    """``text`` naming the public address where it names the private back channel."""
    return addresses()(text)


def current_choice() -> Choice:
    """The browser's provider, else the presenter's (FLOWLAB_PROVIDER), else sandbox."""
    choice = get_choice(browser_id())
    if choice is not None:
        return choice
    config = app_config()
    if config.get("PROVIDER") == "spotify" and config.get("CLIENT_ID"):
        profile = get_content().data("providers")["spotify"]
        return Choice(providers.spotify(profile, config, config["CLIENT_ID"]),
                      config.get("CLIENT_SECRET"))
    note_missing_backchannel()
    return Choice(providers.sandbox(request.host_url, config))


def secret_for(provider: Provider) -> str | None:
    """The stored secret, if the browser's choice is still this run's provider."""
    choice = current_choice()
    same = (choice.provider.token_url == provider.token_url
            and choice.provider.clients == provider.clients)
    return choice.secret if same else None


def redirect_uri(provider: Provider | None = None) -> str:
    """The callback to register: this server's address, as the browser sees it, and
    the provider's own path (``flowlab.core.runner.callbacks``; Spotify's by
    default)."""
    path = callback_path(provider) if provider else CALLBACK_PATH
    return request.host_url.rstrip("/") + path


@bp.get("/provider")
def show():
    data = get_content().data("providers")
    choice = current_choice()
    offered = providers.offered(choice.provider, bool(choice.secret),
                                data["reasons"],
                                runner().flows.values())
    return render_template("providers/index.html", choice=choice, data=data,
                           offered=offered, redirect_uri=redirect_uri(),
                           own_redirect_uri=redirect_uri(choice.provider),
                           form=request.args, next=safe_next(request.args.get("next"),
                                                             ""), md=render_markdown)


@bp.post("/provider")
def choose():
    form = request.form
    kind = form.get("kind", "")
    try:
        provider = _provider_from(kind, form)
    except providers.ProviderError as exc:
        flash(str(exc), "error")
        kept = {k: v for k, v in form.items()
                if k not in ("client_secret", "csrf_token")}
        return render_template(
            "providers/index.html", choice=current_choice(), offered={},
            data=get_content().data("providers"), redirect_uri=redirect_uri(),
            own_redirect_uri=redirect_uri(current_choice().provider),
            form=kept, next=safe_next(form.get("next"), ""), md=render_markdown,
        ), 400
    if provider is None:
        forget_choice(browser_id())
    else:
        put_choice(browser_id(create=True),
                   Choice(provider, form.get("client_secret", "").strip() or None))
    flash(f"Runs now go to: {provider.name if provider else 'the sandbox'}.",
          "success")
    return redirect(safe_next(form.get("next"), url_for(".show")), 303)


@bp.post("/provider/forget")
def forget():
    forget_choice(browser_id())
    flash("Forgotten: the provider settings, the client secret and your runs' "
          "tokens are gone from this server. Runs go to the sandbox again.", "success")
    return redirect(url_for(".show"), 303)


def remote_requester() -> bool:
    """Whether this request comes from another machine than the lab's."""
    return not is_loopback_host(request.remote_addr)


def _only_from_this_machine() -> None:
    """Other providers make this server fetch URLs someone typed in: on a shared
    (workshop) lab only the presenter's own machine may add them, unless allowed."""
    if app_config()["REMOTE_CUSTOM_PROVIDERS"]:
        return
    if remote_requester():
        raise providers.ProviderError(
            "On a shared lab, other providers can be set up only on the machine that "
            "runs it (the presenter's). Use the sandbox or Spotify, or run the lab on "
            "your own computer.")


def sandbox_issuer(profile_id: str) -> Provider | None:
    """The sandbox issuer of ``profile_id`` (content/sandbox/profiles.toml); None
    for the first profile, the default, or an unknown one."""
    found = get_content().data("sandbox/profiles")["profile"]
    if profile_id not in found or profile_id == next(iter(found)):
        return None
    profile = found[profile_id]
    methods = set(profile.get("auth_methods", ["client_secret_basic"]))
    offers = tuple(name for name in ("registration", "par", "dpop")
                   if profile.get(name, "off") not in (False, "off"))
    grants = (TOKEN_EXCHANGE,) if profile.get("token_exchange") else ()  # RFC 8693
    return providers.sandbox(request.host_url, app_config(), profile["path"],
                             profile["name"], profile.get("oidc", False),
                             secrets_accepted=bool(methods - {"private_key_jwt"}),
                             extensions=offers, grants=grants)


@bp.post("/provider/again/<flow_id>")
def again(flow_id: str):
    """Repeat a run under another sandbox issuer, with the same options; the new
    run's page then leads back to a comparison of both (views.compare)."""
    provider = sandbox_issuer(request.form.get("profile", ""))
    if provider is None:
        forget_choice(browser_id())
    else:
        put_choice(browser_id(create=True), Choice(provider))
    session["compare_back"] = {"run": request.form.get("run", ""), "step": None,
                               "flow": flow_id}
    return redirect(url_for("runner.start", flow_id=flow_id), 307)


def _provider_from(kind: str, form) -> Provider | None:
    """Build the profile the form describes; None means the sandbox."""
    client_id = form.get("client_id", "").strip()
    if kind == "sandbox":
        return sandbox_issuer(form.get("profile", ""))
    if kind == "spotify":
        if not client_id:
            raise providers.ProviderError("Enter your Spotify app's client id.")
        profile = get_content().data("providers")["spotify"]
        return providers.spotify(profile, app_config(), client_id)
    if kind == "discovered":
        _only_from_this_machine()
        api_base = form.get("api_base", "").strip()
        scope = form.get("scope", "").strip()
        clients = (client_id, form.get("public_client_id", "").strip())
        if form.get("discovery_url", "").strip():
            settings = runner().settings
            texts = get_content().data("providers")["discovery"]
            with outbound.limits(settings.deadline, remote_requester()):
                metadata = discovery.discover(form["discovery_url"].strip(), texts,
                                              settings.timeout, hosts=lab_hosts())
            provider = discovery.from_metadata(metadata, clients, api_base, scope,
                                               hosts=lab_hosts())
            return replace(provider, callback_path=for_issuer(provider.issuer))
        return providers.manual(form.get("issuer", "").strip(),
                                form.get("authorize_url", "").strip(),
                                form.get("token_url", "").strip(), api_base,
                                clients, scope, hosts=lab_hosts())
    raise providers.ProviderError("Choose the sandbox, Spotify or another provider.")
