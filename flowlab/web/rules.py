"""URL rules whose builders are compiled when first used, not at start-up.

Werkzeug compiles two Python functions for every rule as it is added (building its
URL with and without unknown arguments as a query). The lab adds about 280 rules
(every issuer's pages), and a worker builds only the URLs of the pages it serves,
so most of that compiling was start-up time spent for nothing. Matching is
unchanged: the rule's parts are still parsed when it is added.
"""

from __future__ import annotations

from werkzeug.routing import Rule


class LazyRule(Rule):
    """A rule that compiles each builder on its first ``url_for``."""

    def _compile_builder(self, append_unknown: bool = True):
        name = "_build_unknown" if append_unknown else "_build"
        compile_now = super()._compile_builder

        def build(rule: Rule, /, **values):
            # Two threads may both compile it: the same function, either is kept.
            built = compile_now(append_unknown).__get__(rule, None)
            setattr(rule, name, built)
            return built(**values)

        return build
