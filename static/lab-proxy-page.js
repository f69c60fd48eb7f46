// The proxy-page lab's helper page: it tells the window that opened it (or its
// parent frame) its own address, with the target origin the page names: "*" (any
// receiver, RFC 9700 §4.17) or its own origin.
(function () {
  "use strict";
  var status = document.getElementById("proxy");
  if (!status) {
    return;
  }
  var to = window.opener || (window.parent !== window ? window.parent : null);
  if (!to) {
    status.textContent = "No window opened this page: it posted nothing.";
    return;
  }
  to.postMessage(window.location.href, status.dataset.targetOrigin);
  status.textContent = "Posted this page's address to the window that opened it.";
}());
