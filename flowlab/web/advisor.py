"""The advisor: questions in, a recommended flow out (HTML and JSON).

The views read ``content/decision-table.toml`` and leave the reasoning to
``flowlab.core.advisor``; they only translate between HTTP and its answers. The JSON API
describes its own questions at ``/api/advice/questions``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint
from flask import jsonify
from flask import render_template
from flask import request

from flowlab.core.advisor import check_answers
from flowlab.core.advisor import goal
from flowlab.core.advisor import recommend
from flowlab.core.advisor import ruled_out_at
from flowlab.web.session import get_content
from flowlab.web.session import runner

bp = Blueprint("advisor", __name__)
QUESTIONS_URL = "/api/advice/questions"


def _table() -> dict:
    return get_content().data("decision-table")


@bp.get("/advisor")
def advisor():
    """The questions as a GET form; with answers, the result on a shareable URL."""
    table = _table()
    asked = any(q["id"] in request.args for q in table["questions"])
    if not asked or "edit" in request.args:
        return _form(table, {})
    answers, problems = check_answers(request.args, table)
    if problems:
        errors = {problem.parameter: problem.message for problem in problems}
        return _form(table, errors), 400
    result = recommend(answers, table)
    return render_template(
        "advisor/result.html",
        table=table,
        answers=answers,
        result=result,
        marks=_marks(result),
        flows={flow["id"]: flow for flow in table["flows"]},
        columns={column["key"]: column["label"] for column in table["columns"]},
        questions={question["id"]: question for question in table["questions"]},
        lessons=_lesson_titles(result.lessons),
        goal=goal(request.args, table, runner().flows),
    )


def _lesson_titles(slugs: list[str]) -> dict[str, str]:
    """Each lesson's title, or a readable slug if the lesson is not written yet."""
    content = get_content()
    titles = {}
    for slug in slugs:
        page = content.page(f"lessons/{slug}")
        titles[slug] = page.title if page else slug.replace("-", " ").capitalize()
    return titles


def _form(table: dict, errors: dict[str, str]) -> str:
    """The questions, with any errors beside them and the JSON API documented below."""
    example = {q["id"]: q["options"][0]["value"] for q in table["questions"]}
    return render_template(
        "advisor/form.html",
        table=table,
        answers=request.args,
        errors=errors,
        api_example=f"/api/advice?{urlencode(example)}",
        questions_url=QUESTIONS_URL,
    )


def _marks(result) -> dict[str, tuple[str, str]]:
    """How the result page's table marks each row."""
    out = ruled_out_at(result)
    marks = {}
    for flow, verdict in result.verdicts.items():
        if verdict.verdict == "recommended":
            marks[flow] = ("recommended", "Recommended")
        elif flow in out:
            marks[flow] = ("out", f"Ruled out at step {out[flow]}")
        else:
            marks[flow] = ("possible", "Possible, with caveats")
    return marks


@bp.get("/api/advice")
def api_advice():
    """The same advice as JSON; a missing or bad answer is a 400 naming it."""
    table = _table()
    answers, problems = check_answers(request.args, table)
    if problems:
        first = problems[0]
        given = "missing" if first.parameter not in request.args else "not valid"
        message = (
            f"{first.parameter} is {given}: expected one of "
            + "|".join(first.allowed)
        )
        return jsonify(
            error=message,
            parameter=first.parameter,
            allowed=first.allowed,
            questions=QUESTIONS_URL,
        ), 400
    data = recommend(answers, table).to_dict()
    beyond = goal(request.args, table, runner().flows)
    if beyond:  # only when asked: without it the answer keeps its shape
        data["goal"] = beyond
    return jsonify(data)


@bp.get(QUESTIONS_URL)
def api_questions():
    """What ``/api/advice`` asks: each parameter, its meaning and its answers."""
    questions = [
        {
            "parameter": q["id"],
            "label": q["label"],
            "help": q["help"],
            "answers": [dict(option) for option in q["options"]],
        }
        for q in _table()["questions"]
    ]
    return jsonify(endpoint="/api/advice", method="GET", questions=questions)
