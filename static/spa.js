// Single-page-app runs only: this page plays the browser app. It keeps the PKCE
// verifier in this tab's sessionStorage for the round trip to the authorization
// server, sends the token request itself with fetch, and holds the answer in memory
// until it clicks the lab's Next. The lab then reads what the sandbox received.
(() => {
  const KEY = "flowlab-pkce-verifier:";

  // 1. Leaving for /authorize: the page will be gone, so keep the verifier for this tab.
  const leave = document.querySelector("a[data-verifier]");
  if (leave) {
    leave.addEventListener("click", () => {
      sessionStorage.setItem(KEY + leave.dataset.spaRun, leave.dataset.verifier);
    });
  }

  // 2. Back with a code: redeem it from the page, a simple request (no preflight).
  const form = document.querySelector("form[data-spa-token]");
  if (!form) return;
  const status = document.getElementById("spa-status");
  let tokens = null; // in memory only: gone when this page goes
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.sending) return;
    const data = form.dataset;
    const verifier = sessionStorage.getItem(KEY + data.spaRun);
    if (!verifier) {
      status.textContent = "This tab holds no code verifier for this run (was the " +
        "run started in another tab?), so the page cannot redeem the code. Start again.";
      return;
    }
    form.dataset.sending = "1";
    status.textContent = "Sending the token request from this page…";
    try {
      const answer = await fetch(data.spaToken, {
        method: "POST",
        credentials: "omit", // as from another origin: no cookies
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code: data.code,
          redirect_uri: data.redirect,
          client_id: data.client,
          code_verifier: verifier,
        }),
      });
      tokens = await answer.json();
      status.textContent = `The page read the answer (${answer.status}): ` +
        `${tokens.access_token ? "tokens" : "no tokens"}.`;
    } catch (problem) {
      status.textContent = `The browser let the page read no answer (${problem}).`;
    }
    sessionStorage.removeItem(KEY + data.spaRun);
    form.submit();
  });
})();
