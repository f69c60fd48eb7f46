// The room's scoreboard (templates/presenter/_scores.html, leaderboard.html): fresh
// counts into the cells marked data-score="<kind>/<item>/<started|solved>", the
// leaderboard's nicknames, and one polite word in the status line when someone
// solves something (never on a poll that changed nothing). The room page's own poll
// (presenter.js) hands its answer over; the projector's view polls by itself.
// Without this script, each page's Refresh link does the same.
(() => {
  const root = document.querySelector("[data-scores]");
  if (!root) return;
  const news = document.getElementById("scores-news");

  const leaders = (board) => {
    const list = root.querySelector("[data-leaders]");
    if (!list || !board.entries) return;
    const line = (leader) => `${leader.nickname} ${leader.solved} solved`;
    const shown = [...list.children].map((item) => item.textContent);
    if (JSON.stringify(shown) !== JSON.stringify(board.entries.map(line))) {
      list.replaceChildren(...board.entries.map((leader) => {
        const item = document.createElement("li");
        const name = document.createElement("span");
        name.className = "leader-name";
        name.textContent = leader.nickname;
        const solved = document.createElement("span");
        solved.className = "leader-solved";
        solved.textContent = `${leader.solved} solved`;
        item.append(name, " ", solved);
        return item;
      }));
      const empty = root.querySelector("[data-leaders-empty]");
      if (empty) empty.hidden = board.entries.length > 0;
    }
    const anonymous = root.querySelector("[data-anonymous]");
    if (anonymous) {
      const who = board.anonymous === 1 ? "1 attendee" : `${board.anonymous} attendees`;
      const text = `${who} without a nickname solved something too.`;
      if (anonymous.textContent !== text) anonymous.textContent = text;
    }
  };

  const update = (data) => {
    const board = data.leaderboard || {};
    if (root.dataset.shown !== String(Boolean(board.shown))) {
      window.location.reload();  // shown or hidden from another window
      return;
    }
    const solved = [];
    for (const item of data.items || []) {
      for (const what of ["started", "solved"]) {
        const key = `${item.kind}/${item.id}/${what}`;
        const cell = root.querySelector(`[data-score="${CSS.escape(key)}"]`);
        if (!cell || cell.textContent === String(item[what])) continue;
        if (what === "solved" && item.solved > Number(cell.textContent)) {
          solved.push(`${item.title}: ${item.solved} solved`);
        }
        cell.textContent = item[what];
      }
    }
    leaders(board);
    if (news && solved.length) news.textContent = `Just solved. ${solved.join("; ")}.`;
  };

  if (document.querySelector("[data-room]")) {
    document.addEventListener("flowlab:room", (event) => update(event.detail));
    return;
  }
  window.setInterval(() => {
    if (document.hidden) return;
    fetch(root.dataset.scores, { credentials: "same-origin", cache: "no-store" })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => data && update(data))
      .catch(() => {}); // the server is away for a moment: try again next tick
  }, 4000);
})();
