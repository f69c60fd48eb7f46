// Presenter mode. Keyboard first: → and ← through every page of a run (the start
// page included), r to start the flow again. Live numbers on the room page, and a
// presenter view that follows the run. Progressive enhancement only: every control
// is a plain link or form without this script.
(() => {
  const RUN_START = /^\/run\/[^/]+$/;

  // The form that (re)starts this page's flow: it posts to /run/<flow id>.
  const startForm = () =>
    [...document.querySelectorAll('form[method="post"]')].find((form) =>
      RUN_START.test(new URL(form.action, window.location.href).pathname));

  const onStartPage = () => RUN_START.test(window.location.pathname);
  const onRunPage = () => onStartPage() || window.location.pathname.startsWith("/runs/");

  // Each key names what it would do on this page, or nothing.
  const moves = {
    ArrowRight() {
      const next = document.getElementById("next");
      if (next) return () => next.click();
      const form = onStartPage() && startForm();
      return form && (() => form.requestSubmit());
    },
    ArrowLeft() {
      const prev = document.getElementById("prev");
      if (prev) return () => prev.click();
      if (onStartPage()) return () => window.location.assign("/run/");
      const form = onRunPage() && startForm();
      return form && (() => window.location.assign(form.action));
    },
    r() {
      const form = onRunPage() && startForm();
      return form && (() => form.requestSubmit());
    },
  };

  document.addEventListener("keydown", (event) => {
    // runner.js handles the step page's arrows first; never act twice.
    if (event.defaultPrevented || event.repeat) return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const action = Object.hasOwn(moves, event.key) && moves[event.key]();
    if (action) {
      event.preventDefault();
      action();
    }
  });

  // Large type is for a room: blur masked secrets (abcd…wxyz, ••••) so the back row
  // cannot copy even their ends, and revealed ones, which the step page lists in a
  // JSON data block. presenter.css blurs .secret; hovering shows one.
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const listed = document.getElementById("revealed-secrets");
  const revealed = listed ? JSON.parse(listed.textContent) : [];
  const MASKED = new RegExp([
    "[\\w.~+/=%-]{4}\u2026[\\w.~+/=%-]{4}", "\u2022{4,}",
    ...revealed.sort((a, b) => b.length - a.length).map(escape),
  ].join("|"), "g");
  const blurSecrets = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const found = [];
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const inside = node.parentElement.closest(".secret, script");
      if (MASKED.test(node.data) && !inside) found.push(node);
      MASKED.lastIndex = 0;
    }
    for (const node of found) {
      const pieces = document.createDocumentFragment();
      let last = 0;
      for (const match of node.data.matchAll(MASKED)) {
        pieces.append(node.data.slice(last, match.index));
        const span = document.createElement("span");
        span.className = "secret";
        span.textContent = match[0];
        pieces.append(span);
        last = match.index + match[0].length;
      }
      pieces.append(node.data.slice(last));
      node.replaceWith(pieces);
    }
  };
  const main = document.getElementById("main");
  if (main && document.documentElement.classList.contains("large-type")) blurSecrets(main);

  const poll = (url, every, use) => {
    const tick = () => {
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => data && use(data))
        .catch(() => {}); // the server is away for a moment: try again next tick
    };
    window.setInterval(tick, every);
  };

  // The room: put fresh counts into the cells marked data-count="<flow>/<what>".
  const room = document.querySelector("[data-room]");
  if (room) {
    const live = room.querySelector(".room-live");
    if (live) live.hidden = false;
    poll(room.dataset.room, 3000, (data) => {
      for (const flow of data.flows) {
        const values = { runs: flow.runs, finished: flow.finished,
          stopped: flow.stopped, not_started: flow.not_started };
        for (const step of flow.steps) values[step.id] = step.runs;
        for (const [what, value] of Object.entries(values)) {
          const cell = room.querySelector(`[data-count="${CSS.escape(`${flow.id}/${what}`)}"]`);
          if (cell && cell.textContent !== String(value)) cell.textContent = value;
        }
      }
      // The scoreboard on this page takes the same answer (scoreboard.js).
      document.dispatchEvent(new CustomEvent("flowlab:room", { detail: data }));
    });
  }

  // The presenter view: reload when the step page moves (on, back, another run).
  const follow = document.querySelector("[data-follow]");
  if (follow) {
    poll(follow.dataset.follow, 2000, (data) => {
      const { run, done, step } = follow.dataset;
      const moved = step !== undefined && String(data.step) !== step;  // labs: no step
      if (data.run !== run || String(data.done) !== done || moved) {
        window.location.reload();
      }
    });
  }
})();
