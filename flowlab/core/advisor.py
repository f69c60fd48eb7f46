"""The advisor: answers in, a recommended flow out, driven by the decision table.

Pure functions over ``content/decision-table.toml`` (no Flask). Each answer matches one
rule; each rule gives flows verdicts with reasons, and the worst verdict a flow
collects wins. The first flow in the table's ``preference`` list whose verdict is
still "fits" is recommended. The implicit grant is never recommended. Rules may add
caveats (each with a lesson to read next), a one-line headline, and what "Run it live"
starts when that is not the recommended flow's default run.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field

RANK = {"fits": 0, "possible": 1, "not-suitable": 2}
NEVER_RECOMMENDED = "implicit"


@dataclass
class Verdict:
    verdict: str
    reason: str


@dataclass
class Step:
    """One step of the path through the table: an answer and the rows it ruled out."""

    question: str | None
    answer: str | None
    column: str | None
    ruled_out: list[str]
    reason: str


@dataclass
class Recommendation:
    recommended: str
    verdicts: dict[str, Verdict]
    path: list[Step]
    caveats: list[str] = field(default_factory=list)
    headline: str | None = None
    lessons: list[str] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)  # {"flow", "label"}: run it live
    live: dict = field(default_factory=dict)  # {"flow", "run_as", "href", "note"}

    def to_dict(self) -> dict:
        """The JSON shape of ``GET /api/advice``."""
        return asdict(self)


class InvalidAnswer(ValueError):
    """An answer that is missing or not one of the question's options."""

    def __init__(self, parameter: str, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.allowed = allowed


def check_answers(answers, table: dict) -> tuple[dict, list[InvalidAnswer]]:
    """Keep the valid answers from a mapping; list a problem per bad question."""
    clean, problems = {}, []
    for question in table["questions"]:
        qid = question["id"]
        allowed = [option["value"] for option in question["options"]]
        value = (answers.get(qid) or "").strip()
        if value in allowed:
            clean[qid] = value
        elif not value:
            problems.append(InvalidAnswer(qid, "Choose one of the answers.", allowed))
        else:
            choices = ", ".join(allowed)
            message = f"“{value[:40]}” is not an answer here; choose {choices}."
            problems.append(InvalidAnswer(qid, message, allowed))
    return clean, problems


def recommend(answers: dict, table: dict) -> Recommendation:
    """Apply the table's rules to complete, valid answers (see ``check_answers``)."""
    clean, problems = check_answers(answers, table)
    if problems:
        raise problems[0]
    collected: dict[str, list[Verdict]] = {f["id"]: [] for f in table["flows"]}
    path, caveats, lessons, headlines, runs, live = [], [], [], [], [], []
    for rule in _matching_rules(clean, table):
        effects = [e for e in rule.get("effects", []) if _applies(e, clean)]
        for effect in effects:
            verdict = Verdict(effect["verdict"], effect["reason"])
            collected[effect["flow"]].append(verdict)
        out = [e["flow"] for e in effects if e["verdict"] == "not-suitable"]
        path.append(_step(rule, table, out, clean))
        applied = [c for c in rule.get("caveats", []) if _applies(c, clean)]
        caveats += [c["text"] for c in applied]
        lessons += [c["lesson"] for c in applied if "lesson" in c]
        runs += [{"flow": c["run"], "label": c["run_label"]}
                 for c in applied if "run" in c]
        heads = rule.get("headlines", [])
        headlines += [h["text"] for h in heads if _applies(h, clean)]
        live += [item for item in rule.get("live", []) if _applies(item, clean)]
    verdicts = {flow: _worst(found) for flow, found in collected.items()}
    chosen = _choose(verdicts, table)
    for flow, verdict in verdicts.items():
        if flow == chosen:
            verdict.verdict = "recommended"
        elif verdict.verdict == "fits":
            verdict.verdict = "possible"
    headline = headlines[0] if headlines else None
    unique = list(dict.fromkeys(lessons))
    return Recommendation(chosen, verdicts, path, caveats, headline, unique, runs,
                          _live(live[0] if live else {"flow": chosen}))


def _live(item: dict) -> dict:
    """What "Run it live" starts: a flow, and the start form's ``run_as`` if any."""
    run_as = item.get("run_as")
    href = f"/run/{item['flow']}" + (f"?run_as={run_as}" if run_as else "")
    return {"flow": item["flow"], "run_as": run_as, "href": href,
            "note": item.get("note")}


def _matching_rules(answers: dict, table: dict) -> list[dict]:
    """Rules in question order, then the rules that always apply."""
    order = [q["id"] for q in table["questions"]]
    rules = [r for r in table["rules"] if r.get("question") in answers]
    rules = [r for r in rules if answers[r["question"]] in _answers_of(r)]
    rules.sort(key=lambda r: order.index(r["question"]))
    return rules + [r for r in table["rules"] if "question" not in r]


def _answers_of(rule: dict) -> list[str]:
    """The answers a rule stands for: ``answer``, or several in ``answers``."""
    return rule["answers"] if "answers" in rule else [rule["answer"]]


def _applies(item: dict, answers: dict) -> bool:
    when = item.get("when", {})
    return all(answers.get(qid) in values for qid, values in when.items())


def _step(rule: dict, table: dict, ruled_out: list[str], answers: dict) -> Step:
    qid = rule.get("question")
    question = next((q for q in table["questions"] if q["id"] == qid), None)
    column = question["column"] if question else None
    return Step(qid, answers.get(qid), column, ruled_out, rule["reason"])


def _worst(found: list[Verdict]) -> Verdict:
    """The worst verdict, its distinct reasons joined; no verdict means "possible"."""
    if not found:
        return Verdict("possible", "None of your answers rules it out or calls for it.")
    level = max(RANK[v.verdict] for v in found)
    reasons = [v.reason for v in found if RANK[v.verdict] == level]
    unique = list(dict.fromkeys(reasons))
    name = next(name for name, rank in RANK.items() if rank == level)
    return Verdict(name, " ".join(unique))


def _choose(verdicts: dict[str, Verdict], table: dict) -> str:
    """The first preferred flow that fits, else the first that is possible."""
    preference = [f for f in table["preference"] if f != NEVER_RECOMMENDED]
    for wanted in ("fits", "possible"):
        for flow in preference:
            if verdicts[flow].verdict == wanted:
                return flow
    raise ValueError("the decision table leaves no flow to recommend")


def ruled_out_at(result: Recommendation) -> dict[str, int]:
    """For each ruled-out flow, the 1-based path step that first ruled it out."""
    found: dict[str, int] = {}
    for number, step in enumerate(result.path, start=1):
        for flow in step.ruled_out:
            found.setdefault(flow, number)
    return found


def goal(answers, table: dict, runnable) -> dict | None:
    """What the table's ``[goal]`` question says beyond Spotify's table (signing the
    user in, a high-security API, an agent): the chosen option, with ``run`` the
    runner's page for its flow when ``runnable`` (the runner's flow ids) holds it,
    else None, so a flow not built yet is explained and never linked. None when
    the answer is absent, unknown, or leaves the decision to the table."""
    value = (answers.get("goal") or "").strip()
    option = next((o for o in table.get("goal", {}).get("options", [])
                   if o["value"] == value), None)
    if option is None or "title" not in option:
        return None
    flow = option.get("flow")
    return {**option, "run": f"/run/{flow}" if flow in runnable else None}
