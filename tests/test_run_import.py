"""Keep a run: its JSON export imported back in another browser (issue 20, part 5).

Over HTTP on the served app: the imported run shows the same steps, read only, and
no secret of the original run in clear anywhere, its database row included. A bad
file is refused with a page that names what was wrong and keeps the import form,
and leaves no run behind.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
import requests

from tests.flowrunner import FlowRunner
from tests.keep_helpers import finished
from tests.keep_helpers import leaked
from tests.keep_helpers import real_secrets
from tests.keep_helpers import run_count
from tests.keep_helpers import run_row
from tests.keep_helpers import upload

FORMATS = ("md", "sh", "http", "json", "har")


def _text(page: requests.Response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


@pytest.fixture(scope="module")
def original(live_server):
    """A finished PKCE run on the sandbox, its masked export and its secrets."""
    runner = finished(live_server, "authorization-code-pkce")
    export = runner.session.get(runner.run_url + "/export.json", timeout=10)
    assert export.status_code == 200
    return runner, export.content, real_secrets(runner)


def test_an_exported_run_comes_back_read_only_in_another_browser(live_server,
                                                                 original):
    runner, export, secrets = original
    assert len(secrets) >= 4  # code, verifier, access and refresh tokens
    other = requests.Session()
    before = run_count(live_server)
    answer = upload(other, live_server, export)
    assert answer.status_code == 303
    run_url = live_server(answer.headers["Location"].split("?")[0]) \
        if answer.headers["Location"].startswith("/") else answer.headers["Location"]
    assert run_count(live_server) == before + 1
    run_id = run_url.rsplit("/", 1)[1]
    assert run_id != runner.run_url.rsplit("/", 1)[1]

    first = other.get(run_url, timeout=10)
    assert first.status_code == 200
    said = _text(first)
    assert "Imported" in said and "cannot be continued" in said
    assert runner.run_url.rsplit("/", 1)[1] in said  # where it came from
    assert 'href="/run/authorization-code-pkce"' in first.text  # a fresh run
    document = json.loads(export)
    titles = [step["title"] for step in document["steps"]]
    pages = [other.get(f"{run_url}?step={n}", timeout=10)
             for n in range(1, len(titles) + 1)]
    for page, title in zip(pages, titles, strict=True):
        assert page.status_code == 200
        assert title in _text(page)
        assert 'id="next"' not in page.text or "?step=" in re.search(
            r'<a id="next"[^>]*>', page.text).group()  # only the link to a step
        assert "/next" not in page.text and "Sign in again" not in page.text
    revealed = [other.get(f"{run_url}?step={n}&reveal=1", timeout=10)
                for n in range(1, len(titles) + 1)]
    downloads = [other.get(f"{run_url}/export.{fmt}", timeout=10) for fmt in FORMATS]
    downloads += [other.get(f"{run_url}/export.{fmt}?secrets=1", timeout=10)
                  for fmt in ("sh", "http", "har", "json")]
    compared = other.get(live_server(f"/compare?run={run_id}"), timeout=10)
    assert compared.status_code == 200
    for page in [first, *pages, *revealed, *downloads, compared]:
        assert page.status_code == 200
        assert leaked(page.text, secrets) == [], page.url
    assert json.loads(downloads[3].text)["steps"][0]["title"] == titles[0]
    row = run_row(live_server, run_id)
    assert leaked(json.dumps(row, default=str), secrets) == []
    assert json.loads(row["secrets"]) == {}
    assert len(json.loads(row["steps"])) == len(titles)
    assert row["status"] in ("finished", "stopped")

    # It cannot be continued: Next changes nothing.
    steps_before = row["steps"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', first.text).group(1)
    other.post(run_url + "/next", data={"csrf_token": token}, timeout=30)
    assert run_row(live_server, run_id)["steps"] == steps_before
    # The original browser does not see it: it belongs to the importing one.
    assert runner.session.get(run_url, timeout=10).status_code == 404


def test_the_runs_list_and_the_export_menu_lead_to_the_import_form(live_server,
                                                                   original):
    runner = original[0]
    assert 'href="/runs/import"' in runner.session.get(live_server("/run/"),
                                                       timeout=10).text
    assert 'href="/runs/import"' in runner.session.get(runner.run_url,
                                                       timeout=10).text
    form = requests.get(live_server("/runs/import"), timeout=10)
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert 'type="file"' in form.text and "1 MB" in _text(form)


def _refused(live_server, content: bytes, status: int = 400) -> str:
    """Upload ``content`` in a fresh browser: refused with the form, no run made."""
    session = requests.Session()
    before = run_count(live_server)
    answer = upload(session, live_server, content)
    assert answer.status_code == status, answer.text[:500]
    assert 'type="file"' in answer.text  # still on the import form
    assert run_count(live_server) == before
    return _text(answer)


def test_a_file_too_big_is_refused_with_413(live_server):
    said = _refused(live_server, b" " * 1_200_000 + b"{}", status=413)
    assert "too big" in said and "1 MB" in said


def _edited(export: bytes, change) -> bytes:
    document = json.loads(export)
    change(document)
    return json.dumps(document).encode()


def _set(path: str, value):
    def change(document):
        *parents, last = path.split(".")
        target = document
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return change


@pytest.mark.parametrize(("change", "says"), [
    (None, "not JSON"),
    (lambda d: d.clear(), "not a run export"),
    (_set("version", 99), "version 99"),
    (_set("format", "something-else"), "not a run export"),
    (_set("flow.id", "no-such-flow"), "no-such-flow"),
    (_set("provider.kind", "martian"), "martian"),
    (_set("steps", "many"), "steps"),
    (_set("steps.0.exchanges", [{"request": 5}]), "step 1"),
    (_set("steps.0.id", "a-step-of-another-flow"), "step 1"),
    (_set("steps.0.title", "x" * 5000), "too long"),
    (_set("steps.0.status", "splendid"), "step 1"),
], ids=["not-json", "empty-object", "wrong-version", "wrong-format",
        "unknown-flow", "unknown-provider-kind", "steps-not-a-list",
        "malformed-exchange", "unknown-step", "too-long", "unknown-status"])
def test_a_bad_file_is_refused_and_says_what_was_wrong(live_server, original,
                                                       change, says):
    content = b"this is {not json" if change is None else _edited(original[1],
                                                                 change)
    said = _refused(live_server, content)
    assert says in said


def test_a_secret_in_clear_is_refused(live_server, original):
    runner, _, secrets = original
    full = runner.session.get(runner.run_url + "/export.json?secrets=1", timeout=10)
    said = _refused(live_server, full.content)
    assert "in clear" in said
    assert leaked(said, secrets) == []  # the refusal does not repeat them
    # Even when the file claims to be masked, a clear token in a secret field is
    # refused: the sandbox's access token put back where the export masked it.
    document = json.loads(full.content)
    document["secrets"] = "masked"
    said = _refused(live_server, json.dumps(document).encode())
    assert "in clear" in said and leaked(said, secrets) == []


def test_importing_needs_the_forms_csrf_token(live_server, original):
    session = requests.Session()
    before = run_count(live_server)
    answer = upload(session, live_server, original[1], csrf="forged")
    assert answer.status_code == 400
    assert run_count(live_server) == before


@pytest.mark.parametrize(("flow_id", "options"), [
    ("client-credentials", {}), ("implicit", {}), ("device-authorization", {}),
    ("authorization-code-pkce", {"run_as": "spa"}),
    ("authorization-code-pkce", {"pkce": "off"}),
])
def test_every_flows_export_comes_back_with_its_steps(live_server, flow_id, options):
    runner = FlowRunner(live_server).start(flow_id, **options)
    runner.run_all()
    export = runner.session.get(runner.run_url + "/export.json", timeout=10)
    other = requests.Session()
    answer = upload(other, live_server, export.content)
    assert answer.status_code == 303, _text(answer)
    run_url = live_server(answer.headers["Location"])
    steps = json.loads(export.content)["steps"]
    for n, step in enumerate(steps, 1):
        page = other.get(f"{run_url}?step={n}", timeout=10)
        assert page.status_code == 200 and step["title"] in _text(page)
    again = other.get(run_url + "/export.json", timeout=10).json()
    assert [s["id"] for s in again["steps"]] == [s["id"] for s in steps]
    assert again.get("options") == json.loads(export.content).get("options")


@pytest.mark.parametrize(("issuer", "flow_id", "options"), [
    ("Use the sandbox (best practice)", "sign-in-oidc", {}),
    ("Use the sandbox (FAPI 2.0)", "fapi2", {}),
    ("Use the sandbox (best practice)", "mcp", {}),
    ("Use the sandbox (best practice)", "mcp", {"variant": "metadata-document"}),
])
def test_the_modern_flows_exports_come_back_too(live_server, issuer, flow_id,
                                               options):
    """Their steps hold ID tokens, DPoP proofs, client assertions and challenges
    such as ``Bearer resource_metadata=…``: masked on export, they import."""
    runner = FlowRunner(live_server)
    runner.use_provider(issuer)
    page = runner.start(flow_id, **options).run_all()
    assert "That is the whole flow." in page.text
    export = runner.session.get(runner.run_url + "/export.json", timeout=10)
    answer = upload(requests.Session(), live_server, export.content)
    assert answer.status_code == 303, _text(answer)


@pytest.mark.parametrize("kind", ["spotify", "discovered"])
def test_a_real_providers_run_imports_too(live_server, original, kind):
    """Another provider's run keeps its (masked) steps; its secrets, none, sealed
    for the importing browser as a real provider's run's are."""
    runner, export, secrets = original
    document = json.loads(export)
    document["provider"]["kind"] = kind
    other = requests.Session()
    answer = upload(other, live_server, json.dumps(document).encode())
    assert answer.status_code == 303, _text(answer)
    run_url = live_server(answer.headers["Location"])
    for n in range(1, len(document["steps"]) + 1):
        page = other.get(f"{run_url}?step={n}", timeout=10)
        assert page.status_code == 200
        assert leaked(page.text, secrets) == []
    row = run_row(live_server, run_url.rsplit("/", 1)[1])
    assert json.loads(row["provider"])["kind"] == kind
    assert json.loads(row["secrets"]) == {}
    assert leaked(json.dumps(row, default=str), secrets) == []


def _leaves(value, path=()):
    """Every leaf's path in a JSON document."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


HOSTILE = ("<script>alert(1)</script>", "{{ 7 * 7 }}", "²", "", None, 7, [], {},
           "HTTP/1.1 ²00 OK", "a" * 300)


@pytest.mark.sqlite_only  # the store does not matter here, and it takes a while
@pytest.mark.parametrize("flow_id", ["client-credentials", "authorization-code-pkce",
                                     "device-authorization"])
def test_no_file_makes_the_lab_fail(live_server, flow_id):
    """Each value of an export, one by one, replaced by something hostile or of
    another type: the file is refused (400) or imported and readable, never a 500,
    and no page runs what the file holds."""
    runner = finished(live_server, flow_id)
    export = json.loads(runner.session.get(runner.run_url + "/export.json",
                                           timeout=10).content)
    other = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      other.get(live_server("/runs/import"), timeout=10).text)[1]
    answers = []
    for n, path in enumerate(_leaves(export)):
        document = json.loads(json.dumps(export))
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = HOSTILE[n % len(HOSTILE)]
        answer = other.post(live_server("/runs/import"), data={"csrf_token": token},
                            files={"file": ("run.json", json.dumps(document))},
                            allow_redirects=False, timeout=30)
        answers.append(answer.status_code)
        assert answer.status_code in (303, 400), (path, answer.status_code)
        if answer.status_code == 303:  # the step it changed (a step's own value)
            step = path[1] + 1 if path[0] == "steps" and len(path) > 1 else 1
            page = other.get(live_server(answer.headers["Location"]),
                             params={"step": step}, timeout=10)
            assert page.status_code == 200, (path, step)
            assert "<script>alert" not in page.text
    assert 303 in answers and 400 in answers
