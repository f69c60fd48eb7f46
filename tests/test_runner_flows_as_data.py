"""A flow is data: a TOML file the code has never seen runs end to end.

Each test copies the lab's content to a temporary folder, adds a copy of an existing
flow under another id (and only that file), serves the app on that content and
drives the new flow over HTTP against the sandbox. No Python or template names it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.flowrunner import FlowRunner
from tests.test_runner import WireRecorder

CONTENT = Path(__file__).resolve().parent.parent / "content"


def _content_with(tmp_path: Path, source: str, new_id: str) -> Path:
    """The lab's content plus ``flows/<new_id>.toml``, a renamed copy of a flow."""
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    text = (CONTENT / "flows" / f"{source}.toml").read_text(encoding="utf-8")
    text = text.replace(f'flow = "{source}"', f'flow = "{new_id}"\nname = "Throwaway"')
    (root / "flows" / f"{new_id}.toml").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("source", "steps", "token_on_wire"), [
    ("authorization-code-pkce", 10, "grant_type=authorization_code"),
    ("implicit", 4, None),  # the token comes in the fragment: no token request
    ("client-credentials", 4, "grant_type=client_credentials"),
])
def test_a_flow_defined_only_in_a_new_toml_runs_end_to_end(serve, tmp_path, source,
                                                           steps, token_on_wire):
    new_id = f"throwaway-{source}"
    server = serve(CONTENT_DIR=str(_content_with(tmp_path, source, new_id)))
    recorder = server.app.wsgi_app = WireRecorder(server.app.wsgi_app)
    runner = FlowRunner(server)
    assert f"/run/{new_id}" in runner.get(server("/run/")).text  # listed, offered
    page = runner.start(new_id).run_all()
    done = re.findall(r'class="run-step run-step-(done|failed)"', page.text)
    assert done == ["done"] * steps
    assert "That is the whole flow" in page.text
    sent = [f"{s['line']} {s['body']}" for s in recorder.seen]
    assert any(line.startswith("GET /sandbox/v1/") for line in sent)  # API called
    if token_on_wire:
        assert any(token_on_wire in line for line in sent)
    else:  # the run took its token from the fragment, as the implicit grant does
        assert "response_type=token" in "\n".join(sent)
        assert not any(line.startswith("POST /sandbox/api/token") for line in sent)
        first = runner.get(runner.run_url + "?step=3")
        assert "What came back in the fragment" in first.text


def test_an_unknown_action_is_refused_at_start_up(tmp_path):
    from flowlab.core.content import Content
    from flowlab.core.runner.flows import load_flows

    root = _content_with(tmp_path, "client-credentials", "broken")
    path = root / "flows" / "broken.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'action = "client_token"', 'action = "no_such_action"'), encoding="utf-8")
    with pytest.raises(ValueError, match="no_such_action"):
        load_flows(Content(root))
