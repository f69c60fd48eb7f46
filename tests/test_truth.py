"""The expert review's wrong claims (issue 8) never come back, anywhere a learner reads.

Each row is a claim the review found, as a pattern over every content file and
template, with the reason it is wrong. A row fails when the claim reappears; fix the
text, never the row. The glossary and advisor tests pin the corrected facts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEXTS = sorted(
    [*ROOT.glob("content/**/*.md"), *ROOT.glob("content/**/*.toml"),
     *ROOT.glob("templates/**/*.html")]
)

WRONG = [
    (r"Spotify\s+(still\s+)?rotates", "since 2026-06-18/07-20 Spotify rotates no "
     "refresh token (spotify-wire §3)"),
    (r"(replaces|takes)\s+the\s+secret", "PKCE binds the code; it authenticates no "
     "one (RFC 8252 §8.6)"),
    (r"useless without the client secret", "code injection pushes a stolen code "
     "through the real client, which adds its secret (RFC 9700 §4.5)"),
    (r"wait_for_loopback_callback", "a sample may only call what it defines"),
    (r"curl\s+https://\S*\?\S*&\S*\s", "an unquoted & sends curl to the background"),
    (r"token inject\w* .{0,120}§4\.5\b", "token injection is RFC 9700 "
     "§4.6 (§4.5 is code injection)"),
    (r"Lax or Strict", "a Strict cookie is not sent on the redirect back"),
    (r"custom scheme( \(mobile\))?,? as RFC 8252",
     "RFC 8252 §7.2 prefers claimed https"),
    (r"only in an `?Authorization: Basic`? header", "body credentials were "
     "documented too (RFC 6749 §2.3.1)"),
    (r"no metadata document", "Spotify serves an OpenID discovery document"),
    (r"server should refuse plain", "RFC 9700 §2.1.1 speaks to clients"),
    (r"explains 401s in its JSON error body instead", "Spotify sends "
     "WWW-Authenticate too (RFC 6750 §3)"),
    (r"calling client before revoking it or describing", "that is revocation's "
     "check (RFC 7009 §2.1); introspection needs an authorized caller (RFC 7662 §2.1)"),
    (r"com\.example\.app://", "RFC 8252 §7.1 writes com.example.app:/callback"),
    (r"token_urlsafe\(64\)\[:96\]", "the slice cuts nothing: 86 characters"),
    (r"Before browsers could make cross-origin POST", "forms always could; CORS "
     "let scripts read the answer"),
    # Issue 18, items 21-28.
    (r"a later sandbox profile will show", "the best-practice profile exists "
     "(/sandbox/best-practice, lab refresh-replay)"),
    (r"A backend job, a CLI or a daemon", "only a CLI run just for yourself, secret "
     "in your keychain, may hold one (RFC 8252 §8.5)"),
    (r"it revokes the tokens it issued for that code", "RFC 6749 §4.1.2 says SHOULD; "
     "Spotify documents only the refusal"),
    (r"RFC 9700 §4\.15", "§4.15 is a client impersonating a resource owner; "
     "RFC 8252 §8.6 or RFC 7636 §1 fit"),
    (r"binds the \*?code\*? to the app", "PKCE binds the code to the flow instance "
     "holding the verifier, not to an app"),
    (r"the same app that started the flow", "PKCE binds the code to the flow "
     "instance holding the verifier; it proves nothing about the app"),
    (r"It stores the challenge", "the authorization server stores it (RFC 7636 §4.4)"),
    (r"open the system browser, never an embedded", "or an in-app browser tab "
     "(RFC 8252 §6)"),
    (r"A native app opens the system browser, never", "or an in-app browser tab "
     "(RFC 8252 §6)"),
    (r"`aud`,? equal to", "aud contains your client id and no audience you do "
     "not trust (OIDC Core §3.1.3.7)"),
    (r"hostile network", "RFC 8252 §8.3's reasons: firewalls, local name resolution, "
     "listening on other interfaces"),
]


def _hits(pattern: str) -> list[str]:
    found = []
    for path in TEXTS:
        text = " ".join(path.read_text().split())  # claims may wrap lines
        for match in re.finditer(pattern, text, re.I):
            found.append(f"{path.relative_to(ROOT)}: …{match.group(0)}…")
    return found


def test_the_scan_reads_the_content():
    assert len(TEXTS) > 30
    assert _hits(r"authorization code"), "the scan must see the lessons' words"


@pytest.mark.parametrize(("pattern", "why"), WRONG, ids=[w[0][:30] for w in WRONG])
def test_a_corrected_claim_is_not_back(pattern, why):
    assert not _hits(pattern), why
