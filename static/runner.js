// Keyboard stepping for the live runner: → next, ← previous.
// Progressive enhancement only: every control is a plain link or form without it.
document.addEventListener("keydown", (event) => {
  if (event.repeat || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
    return;
  }
  const target = event.target;
  if (target.closest("input, textarea, select, [contenteditable]")) return;
  const id = { ArrowRight: "next", ArrowLeft: "prev" }[event.key];
  const control = id && document.getElementById(id);
  if (control) {
    event.preventDefault();
    control.click();
  }
});

// A step runs once: after the first submit, further clicks wait for the page.
document.addEventListener("submit", (event) => {
  const button = event.target.querySelector("button[type=submit]");
  if (button && button.id === "next") {
    if (button.dataset.sent) event.preventDefault();
    button.dataset.sent = "1";
  }
});

// Coming back through history restores the page as it was: let it submit again.
window.addEventListener("pageshow", () => {
  const button = document.getElementById("next");
  if (button) delete button.dataset.sent;
});

// A device's wait between polls (RFC 8628 §3.5), counted down. Without this script
// the page states the seconds left, and Next clicked too soon says so.
const pollWait = document.getElementById("poll-wait");
if (pollWait && Number(pollWait.dataset.readyIn) > 0) {
  let left = Number(pollWait.dataset.readyIn);
  const timer = window.setInterval(() => {
    left -= 1;
    if (left > 0) {
      pollWait.querySelector("[data-countdown]").textContent = `${left} s`;
      return;
    }
    window.clearInterval(timer);
    pollWait.querySelector("[data-when]").hidden = true;
    pollWait.querySelector("[role=status]").textContent = pollWait.dataset.readyText;
  }, 1000);
}
