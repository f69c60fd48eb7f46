// The token-injection lab's sign-in page: an implicit-grant client's script takes
// the access token from the address's fragment (RFC 6749 §4.2.2), asks /v1/me
// whose it is, and posts email, username and token to its own server.
(function () {
  "use strict";
  var form = document.getElementById("token-login");
  var status = document.getElementById("token-status");
  if (!form || !status) {
    return;
  }
  var token = new URLSearchParams(window.location.hash.slice(1)).get("access_token");
  if (!token) {
    status.textContent = "There is no token in this page's address.";
    return;
  }
  window.history.replaceState(null, "", window.location.pathname);
  fetch(form.dataset.me, {headers: {Authorization: "Bearer " + token}})
    .then(function (answer) { return answer.ok ? answer.json() : null; })
    .then(function (me) {
      if (!me) {
        status.textContent = "The sandbox did not accept the token.";
        return;
      }
      form.elements.email.value = me.email || "";
      form.elements.username.value = me.id || "";
      form.elements.token.value = token;
      status.textContent = "Signing in as " + me.display_name + "…";
      form.submit();
    });
}());
