"""The library of standard KPIs: one YAML file per Balanced Scorecard perspective, loaded as one set.

Load your own definitions together with the library to build on it (a derived KPI of yours may use
``revenue``): ``load_definitions(*LIBRARY_FILES, Path("ours.yaml"))``. The documentation page is generated from
the files, so it cannot drift from them; regenerate it after changing a file with::

    uv run python -c "from fourfold.metrics.library import library_page; print(library_page(), end='')" > docs/kpi-library.md
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fourfold.metrics.definitions import Definitions, definitions_markdown, load_definitions

LIBRARY_FILES = tuple(
    Path(__file__).with_name(name) for name in ("financial.yaml", "customer.yaml", "internal.yaml", "learning.yaml")
)
"""The library's files, in the order of the perspectives."""

PAGE_INTRODUCTION = """
The standard KPIs Fourfold computes from raw data, generated from the definitions in
`src/fourfold/metrics/library/`. Each is computed from the [canonical tables](#the-tables) by
`fourfold.metrics.compile.compute` for months, quarters or years, and gives, for every period (and
segment, when split), the value together with its numerator, denominator and the number of rows behind it.
Survey KPIs add their 95 % margin of error and flag values resting on fewer than 30 answers.

**Choice points** are the decisions that change a number — which customers are in the denominator, which
date puts a row in a period. Every KPI lists the choices it makes; a team that decides otherwise writes its own
definition rather than reading the number differently.

**Across periods** says how the scorecard combines the KPI's values when it shows a longer span (year to
date, rolling year): *ratio* recomputes from the summed numerators and denominators, which is exact; for
KPIs whose values cannot be combined exactly (medians, growth rates), compute at the grain you want to see.

A period without any rows in the KPI's tables has no value (shown as "no data"), as does a division by zero.
Quarters and years are those of the organisation's fiscal year (calendar ones unless the fiscal year starts in
another month than January).

## The tables

`customers`, `orders`, `subscriptions`, `marketing_spend`, `leads`, `market_totals`, `survey_responses`,
`support_tickets`, `employees`, `training_enrollments`, `projects`, `products`, `social_engagement` and
`reviews`. A column written `customer.region` is the region of the row's customer, found through its
`customer_id`.
"""


@cache
def load_library() -> Definitions:
    """The library's definitions; loaded once, since they only change with the code."""
    return load_definitions(*LIBRARY_FILES)


def library_page() -> str:
    """The Markdown of ``docs/kpi-library.md``."""
    return definitions_markdown(load_library(), title="KPI library", introduction=PAGE_INTRODUCTION)
