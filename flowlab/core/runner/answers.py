"""What a provider's answer means: its JSON, and what went wrong, in the learner's
words (RFC 6749 §5.1, §5.2)."""

from __future__ import annotations

import requests
from oauthlib.oauth2 import OAuth2Error
from urllib3.exceptions import ProtocolError


def as_json(response) -> dict:
    """The response body as a JSON object, or {} when it is anything else."""
    try:
        data = response.json()
    except (ValueError, AttributeError):
        return {}
    return data if isinstance(data, dict) else {}


def json_path(data, path: str):
    """Follow ``artists.items[0].id`` through parsed JSON; None where it stops."""
    for part in path.replace("[", ".").replace("]", "").split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def describe(exc: Exception, response) -> str:
    """Say what was wrong with a token response, in the learner's terms."""
    if isinstance(exc, TypeError | AttributeError):
        return ("The token response is JSON, but not a token response's shape "
                "(RFC 6749 §5.1: an object with access_token, token_type, ...).")
    if response is not None and not as_json(response):
        kind = response.headers.get("Content-Type", "no content type")
        return (f"The token endpoint answered {response.status_code} with {kind}, "
                "not JSON, so it could not be read as a token response "
                "(RFC 6749 §5.1 asks for application/json).")
    if isinstance(exc, OAuth2Error):
        return f"{exc.error}: {exc.description}" if exc.description else exc.error
    return f"The response could not be read as a token response ({exc})."


def transport_error(exc: requests.RequestException, timeout: float) -> str:
    if isinstance(exc, requests.TooManyRedirects):
        return ("The provider answered with a redirect. A client does not follow "
                "redirects on the back channel: it would send its credentials to "
                "wherever the redirect points.")
    if isinstance(exc, requests.Timeout):
        return f"The provider did not answer within {timeout:g} seconds."
    if isinstance(exc, requests.exceptions.SSLError):
        return "The TLS connection to the provider failed: " + str(exc)
    if isinstance(exc, requests.ConnectionError):
        return "The provider could not be reached (is it running, is there a network?)."
    return f"The request failed: {exc}"


def cut_off(exc: requests.RequestException) -> bool:
    """Whether the connection broke after the request went out, before a whole
    answer came (the provider's process stopped): the step was interrupted, not
    refused, and may be tried again."""
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return True
    broken = isinstance(exc, requests.ConnectionError) and exc.args
    return bool(broken) and isinstance(exc.args[0], ProtocolError)
