// The implicit lab's player page: an implicit-grant client takes its access token
// from the address's fragment (RFC 6749 §4.2.2) and uses it at once.
(function () {
  "use strict";
  var status = document.getElementById("player");
  if (!status || status.dataset.fragmentTokens !== "yes") {
    return;
  }
  var params = new URLSearchParams(window.location.hash.slice(1));
  var token = params.get("access_token");
  if (!token) {
    return;
  }
  fetch("/sandbox/v1/me", {headers: {Authorization: "Bearer " + token}})
    .then(function (answer) { return answer.ok ? answer.json() : null; })
    .then(function (me) {
      status.textContent = me
        ? "Signed in as " + me.display_name + ", with the token in this page's address."
        : "The token in this page's address did not work.";
    });
}());
