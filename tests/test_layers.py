"""The layering figures issue 19 sets, held by a test (``python -m tests.layers``
prints them): few modules touch Flask, four read its globals and all in ``web/``, no
import cycle (lazy imports included), no module over 250 lines."""

from __future__ import annotations

from tests.layers import LONG
from tests.layers import figures

FIGURES = figures()


def test_at_most_a_third_of_the_modules_import_flask_or_werkzeug():
    assert len(FIGURES["flask"]) <= FIGURES["modules"] / 3, FIGURES["flask"]


def test_at_most_four_modules_read_current_app_or_g_all_in_web():
    ambient = FIGURES["ambient"]
    assert len(ambient) <= 4, ambient
    assert all(name.startswith("flowlab.web.") for name in ambient), ambient


def test_no_import_cycle_top_level_or_lazy():
    assert not FIGURES["cycles"], FIGURES["cycles"]


def test_no_module_is_over_the_line_limit():
    assert not FIGURES["long"], f"over {LONG} lines: {FIGURES['long']}"


def test_the_figures_see_the_whole_package():
    """A test that can fail: the walk finds the modules it must judge."""
    assert FIGURES["modules"] > 100
    assert "flowlab.web.session" in FIGURES["flask"]
