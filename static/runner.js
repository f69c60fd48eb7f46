// Keyboard stepping for the live runner: → next, ← previous.
// Progressive enhancement only: every control is a plain link or form without it.
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const target = event.target;
  if (target.closest("input, textarea, select, [contenteditable]")) return;
  const id = { ArrowRight: "next", ArrowLeft: "prev" }[event.key];
  const control = id && document.getElementById(id);
  if (control) {
    event.preventDefault();
    control.click();
  }
});
