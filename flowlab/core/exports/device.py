"""The device grant in the curl script and the ``.http`` file (RFC 8628 §3.1-§3.5):
show the user code, then poll the token endpoint until the tokens come."""

from __future__ import annotations

from flowlab.core.exports.escape import http_comment
from flowlab.core.exports.replay import Replay

# poll needs send and json (curl.HELPERS); DEADLINE and INTERVAL come from the
# device request. Every path out of the loop ends it: tokens, an error, the deadline.
POLL_HELPER = r"""
# poll CURL-ARGUMENTS...: ask for the tokens every INTERVAL seconds until they come
# (RFC 8628 §3.4, §3.5), and never after the codes expire (DEADLINE).
poll() {
  local error
  while :; do
    if [ "$(date +%s)" -ge "$DEADLINE" ]; then
      echo 'The codes expired before anyone approved: run this script again.' >&2
      exit 1
    fi
    sleep "$INTERVAL"
    send "$@"
    if [ "$STATUS" = 200 ]; then
      return
    fi
    error=$(json error)
    case $error in
      authorization_pending) ;;
      slow_down) INTERVAL=$((INTERVAL + 5)) ;;  # and for every later poll
      access_denied)
        echo 'The user declined on the verification page: no tokens.' >&2
        exit 1 ;;
      expired_token)
        echo 'The device code expired before anyone approved: run this again.' >&2
        exit 1 ;;
      *)
        echo "The token endpoint answered HTTP $STATUS ${error:-no error}." >&2
        exit 1 ;;
    esac
  done
}

# shown NAME: a field of the last answer, fit to print (no control characters).
shown() {
  json "$1" | tr -d '[:cntrl:]'
}
"""

# After the device request (§3.2): keep the device code, print what a TV shows.
SH_AFTER_REQUEST = r"""DEVICE_CODE=$(json device_code)
need DEVICE_CODE
INTERVAL=$(json interval)
case $INTERVAL in ''|*[!0-9]*) INTERVAL=5 ;; esac  # 5 s when absent (§3.2)
INTERVAL=$((10#$INTERVAL))
EXPIRES_IN=$(json expires_in)
case $EXPIRES_IN in ''|*[!0-9]*) EXPIRES_IN=600 ;; esac
DEADLINE=$(( $(date +%s) + 10#$EXPIRES_IN ))
echo 'On a phone or a computer, open this address:'
printf '  %s\n' "$(shown verification_uri)"
printf 'and type this code: %s\n' "$(shown user_code)"
if [ -n "$(shown verification_uri_complete)" ]; then
  printf 'or open this address, which carries the code: %s\n' \
    "$(shown verification_uri_complete)"
fi
echo 'Then log in and agree. This script asks for the tokens meanwhile.'"""

SH_INTRO = (
    "Runs this flow again with curl, as the device would: a new device request, so a "
    "new device code and user code, then polls until you approve on another screen, "
    "then the API with the new token. Nothing spent in the lab's run is sent again. "
    "Needs bash, curl and python3. Usage: bash this-file.sh")
HTTP_INTRO = (
    "Runs this flow again with fresh values: the device request brings a new device "
    "code and user code, the token request sends that device code, and the API call "
    "takes the token from the token request's answer. Nothing spent in the lab's run "
    "is sent again. Send the requests in order. The {{name.response.body.$.field}} "
    "references are the VS Code REST Client's; in the JetBrains HTTP Client, copy "
    "the values into variables instead.")
HTTP_AFTER_REQUEST = (
    "Its answer holds a user_code and a verification_uri: open that address on a "
    "phone or a computer, type the code, log in and agree. Then send the next "
    "request.")
HTTP_POLL = (
    "Send this again, by hand, until it answers 200, waiting the answer's interval "
    "between tries. authorization_pending: nobody has approved yet. slow_down: wait "
    "5 seconds longer from now on. access_denied or expired_token: no tokens will "
    "come; start again from the device request (RFC 8628 §3.5).")


def is_request(step: Replay) -> bool:
    """The device authorization request: its answer held a device code (§3.2)."""
    return "device_code" in step.gave and not step.poll


def http_notes(step: Replay, wrap) -> list[str]:
    """Comment lines to put above the device request or a poll, else none."""
    if is_request(step):
        return [http_comment(line) for line in wrap(HTTP_AFTER_REQUEST)]
    if step.poll:
        return [http_comment(line) for line in wrap(HTTP_POLL)]
    return []
