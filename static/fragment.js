// Implicit grant only: browsers never send the URL fragment to a server, so this
// script reads it, removes it from the address bar, and posts it to the app.
(() => {
  const data = document.getElementById("fragment-data");
  const status = document.getElementById("fragment-status");
  document.getElementById("fragment-js").hidden = false;
  const fragment = window.location.hash.slice(1);
  history.replaceState(null, "", window.location.pathname);
  fetch(data.dataset.post, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": data.dataset.csrf },
    body: JSON.stringify({ fragment }),
    credentials: "same-origin",
  })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((answer) => window.location.replace(answer.next))
    .catch((problem) => {
      status.textContent = `The app could not take the fragment (${problem}). Start the run again.`;
    });
})();
