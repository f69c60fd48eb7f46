// The attempt's checklist follows the wire: poll the status JSON every two
// seconds and update each check in place; the verdict (role=status) says when
// something changed. Without JavaScript the page's Refresh button does the same.
(function () {
  "use strict";
  const list = document.getElementById("checklist");
  if (!list || !window.fetch) return;
  const verdict = document.getElementById("verdict");
  const url = list.dataset.status;

  function show(report) {
    let passed = 0;
    for (const check of report.checks) {
      const item = list.querySelector('[data-check="' + CSS.escape(check.id) + '"]');
      if (!item) continue;
      if (check.passed) passed += 1;
      item.classList.toggle("check-passed", check.passed);
      item.classList.toggle("check-failed", !check.passed);
      item.querySelector(".check-state").textContent = check.passed ? "Passed:" : "Not yet:";
      item.querySelector(".check-message").textContent = check.message;
    }
    const text = report.solved
      ? "Solved: every check passes."
      : "Not solved yet: " + passed + " of " + report.checks.length + " checks pass.";
    if (verdict.textContent !== text) verdict.textContent = text;
    verdict.classList.toggle("verdict-solved", report.solved);
    verdict.classList.toggle("verdict-open", !report.solved);
    return report.solved;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then((answer) => {
        if (answer.status === 404) {  // the attempt is over (they last a day)
          verdict.textContent = "This attempt has expired: start a new one.";
          return true;
        }
        return answer.ok ? answer.json().then(show) : false;
      })
      .then((done) => {
        if (!done) window.setTimeout(poll, 2000);
      })
      .catch(() => window.setTimeout(poll, 5000));
  }

  if (!verdict.classList.contains("verdict-solved")) window.setTimeout(poll, 2000);
})();
