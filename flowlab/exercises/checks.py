"""The kinds of check an exercise's TOML configures, judged on what was received.

Each kind finds the requests that satisfy its options among an attempt's traffic
(:class:`~flowlab.exercises.traffic.Received`, oldest first) and, when none does,
says what it saw instead. Options every kind takes: ``after`` (a check id: only
requests after the first one that satisfied that check count).

- ``authorize``: the authorization request (RFC 6749 §4.1.1) that ended with a
  code, else the latest one, has ``params`` (name = value; ``"*"`` any value; a
  ``scope`` value must be among the scopes sent) and, with ``outcome = "code"``,
  ended with a code.
- ``token``: a token request (§3.2) with ``grant_type``, client ``auth`` (basic,
  post, none), ``params`` present, answered ``status`` (200 unless ``error``) or
  ``error``, and with ``new_refresh`` true or false, a refresh token in the answer
  or not (§6).
- ``device``: a device authorization request (RFC 8628 §3.1) answered ``status``.
- ``api``: a Web API call to one of ``paths`` (a trailing ``*`` matches a prefix)
  answered ``status`` (RFC 6750 §3.1).
- ``refresh_reuse``: a refresh token sent again after it had been used, answered
  ``status`` or ``error`` (RFC 9700 §4.14.2).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping

from flowlab.exercises.catalogue import Check
from flowlab.exercises.traffic import Received

# A kind: (the check's options, the attempt's values, the requests) -> the
# requests that satisfy it, and what was seen when none did.
Kind = Callable[[Mapping, Mapping, list[Received]], tuple[list[Received], str]]
NOTHING = "Nothing of this kind has reached the sandbox yet."


def _value(expected: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        expected = expected.replace("{{" + name + "}}", value)
    return expected


def _param_problems(params: Mapping, sent: Mapping, values: Mapping) -> list[str]:
    problems = []
    for name, expected in params.items():
        got = sent.get(name)
        expected = _value(str(expected), values)
        if not got:
            problems.append(f"{name} was missing")
        elif name == "scope" and expected != "*":
            if not set(expected.split()) <= set(got.split()):
                problems.append(f"scope was “{got}”, without “{expected}”")
        elif expected != "*" and got != expected:
            problems.append(f"{name} was “{got}”, not “{expected}”")
    return problems


def authorize(options: Mapping, values: Mapping, seen: list[Received]):
    requests = [r for r in seen if r.kind == "authorize"]
    if not requests:
        return [], NOTHING.replace("of this kind", "at the authorization endpoint")
    coded = [r for r in requests if r.data.get("outcome") == "code"]
    judged = (coded or requests)[-1]
    problems = _param_problems(options.get("params", {}), judged.data["query"], values)
    if options.get("outcome") == "code" and judged.data.get("outcome") != "code":
        error = judged.data.get("outcome") or "no code yet"
        problems.append(f"it has not ended with a code ({error})")
    if problems:
        return [], "In your latest authorization request " + "; ".join(problems) + "."
    return [judged], ""


def _answered(options: Mapping, request: Received) -> bool:
    if "error" in options:
        return request.data.get("error") == options["error"]
    return request.status == int(options.get("status", 200))


def _said(request: Received) -> str:
    error = request.data.get("error")
    return f"{request.status}" + (f" {error}" if error else "")


def token(options: Mapping, values: Mapping, seen: list[Received]):
    requests = [r for r in seen if r.kind == "token"]
    grant = options.get("grant_type")
    if grant:
        requests = [r for r in requests if r.data.get("grant_type") == grant]
    if not requests:
        return [], f"No token request with grant_type={grant} has come yet."

    def ok(r: Received) -> bool:
        form = r.data.get("form", {})
        fresh = options.get("new_refresh")
        return (_answered(options, r)
                and options.get("auth") in (None, r.data.get("auth"))
                and all(form.get(name) for name in options.get("params", ()))
                and (fresh is None or bool(r.data.get("refresh_issued")) == fresh))

    last = requests[-1]
    sent = ", ".join(sorted(last.data.get("form", {}))) or "nothing"
    return [r for r in requests if ok(r)], (
        f"Your latest one (grant_type={last.data.get('grant_type') or 'none'}) "
        f"authenticated the client by {last.data.get('auth')}, sent {sent}, and "
        f"was answered {_said(last)}.")


def device(options: Mapping, values: Mapping, seen: list[Received]):
    requests = [r for r in seen if r.kind == "device"]
    if not requests:
        return [], NOTHING.replace("of this kind", "at the device endpoint")
    found = [r for r in requests if _answered(options, r)]
    return found, f"Your latest one was answered {_said(requests[-1])}."


def _path_matches(paths, path: str) -> bool:
    return any(path.startswith(p[:-1]) if p.endswith("*") else path == p
               for p in paths)


def api(options: Mapping, values: Mapping, seen: list[Received]):
    calls = [r for r in seen if r.kind == "api"]
    paths = options.get("paths", ())
    wanted = [r for r in calls if _path_matches(paths, r.data.get("path", ""))]
    found = [r for r in wanted if _answered(options, r)]
    if not wanted:
        return found, ("No call to " + " or ".join(paths) + " with this app's token"
                       " has come yet.")
    last = wanted[-1]
    return found, (f"Your latest call, {last.data['method']} {last.data['path']}, "
                   f"was answered {_said(last)}.")


def refresh_reuse(options: Mapping, values: Mapping, seen: list[Received]):
    refreshes = [r for r in seen if r.kind == "token"
                 and r.data.get("grant_type") == "refresh_token"
                 and r.data.get("refresh_sent")]
    used: set[str] = set()
    again = []
    for r in refreshes:
        if r.data["refresh_sent"] in used:
            again.append(r)
        used.add(r.data["refresh_sent"])
    if not again:
        return [], (f"{len(refreshes)} refresh request(s) came, none with a refresh "
                    "token used before.")
    found = [r for r in again if _answered(options, r)]
    return found, ("The same refresh token came again and was answered "
                   f"{_said(again[-1])}.")


KINDS: dict[str, Kind] = {"authorize": authorize, "token": token, "device": device,
                          "api": api, "refresh_reuse": refresh_reuse}


def grade(checks: tuple[Check, ...], values: Mapping[str, str],
          seen: list[Received]) -> list[dict]:
    """Each check as the contract gives it: ``id``, ``passed``, ``message``
    (what held, or what was wrong and how to fix it), ``ref``, and ``title``."""
    first: dict[str, int] = {}
    report = []
    for check in checks:
        requests = seen
        after = check.options.get("after")
        if after:
            requests = [r for r in seen if r.id > first.get(after, 1 << 62)]
        found, saw = KINDS[check.kind](check.options, values, requests)
        if found:
            first[check.id] = found[0].id
            message = _value(check.passed, values)
        else:
            message = f"{_value(check.failed, values)} {saw}".strip()
        report.append({"id": check.id, "passed": bool(found), "message": message,
                       "ref": check.ref, "title": check.title})
    return report
