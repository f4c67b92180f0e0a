"""The KPI library written as straightforward pandas: the baseline the compiled engine is timed against.

The raw-data engine must compute the library at least ten times faster than "a straightforward pandas
implementation of the same KPIs"; ``benchmarks/metrics.py`` times this module against it. For the comparison to
mean anything, this is the pandas an analyst would write from ``docs/kpi-library.md``: a method per KPI or per
family of KPIs, with ``groupby``, ``merge`` and monthly ``pd.Period`` values, and a loop over the months for
headcounts and cohorts, which are counted on a day of each month. It is neither tuned nor slowed down on purpose.
It is written from the documented definitions rather than from the compiler, so that
``tests/test_pandas_reference.py``, which checks every row against :func:`fourfold.metrics.compile.compute`, also
checks the compiled library; only the *choice* of KPIs to compute comes from the definitions.

The rules that decide a number, as the library documents them:

* A flow KPI (orders, tickets) has a row for each month with data; within such a month a ratio's part without
  rows is 0 (leads but no conversions is a conversion rate of 0 %). Division by zero gives no value.
* Stocks and cohorts (headcount, members, subscribers) are counted on the first or last day of every month from
  their first start to their last start or end date; a month in which nobody is counted has no row.
* ``n`` is the rows behind a value: those of the denominator for a ratio, the answers for a survey, the
  customers active at the start for a cohort; a growth rate takes its month's ``n``, and a derived KPI has none.
* Surveys give their 95 % margin of error and flag fewer than 30 answers.

Only the month grain is implemented, which is what the benchmark measures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from fourfold.metrics.compile import kpis_splittable_by
from fourfold.metrics.library import load_library

Z_95 = 1.96
"""The normal quantile of a two-sided 95 % interval, as the library's survey margins use it."""

MIN_RESPONSES = 30
"""Below this many answers a survey value is flagged as resting on too few responses."""

RESULT_DTYPES: Mapping[str, str] = {
    "kpi": "object",
    "period_start": "object",
    "segment": "object",
    "value": "float64",
    "numerator": "float64",
    "denominator": "float64",
    "n": "Int64",
    "margin_of_error": "float64",
    "too_few_responses": "boolean",
}
"""The columns of :data:`fourfold.metrics.compile.RESULT_SCHEMA` as pandas holds them: dates as ``datetime.date``
(as ``compute(...).to_pandas()`` gives them), ``n`` and the flag nullable, since derived KPIs have no ``n`` and
only surveys have the flag."""

TIME_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "customers": ("signup_date",),
    "orders": ("order_date",),
    "subscriptions": ("start_date", "end_date"),
    "marketing_spend": ("spend_date",),
    "leads": ("created_date", "converted_date"),
    "market_totals": ("period_start",),
    "survey_responses": ("submitted_at",),
    "support_tickets": ("opened_at", "first_response_at", "resolved_at"),
    "employees": ("hire_date", "leave_date"),
    "training_enrollments": ("enrolled_date", "completed_date"),
    "projects": ("end_date",),
    "products": ("launch_date",),
    "social_engagement": ("activity_date",),
    "reviews": ("review_date",),
}
"""The date and timestamp columns of each canonical table; each gets a ``<column>_month`` beside it."""

REFERRED: Mapping[str, str] = {
    "orders": "customers",
    "subscriptions": "customers",
    "support_tickets": "customers",
    "training_enrollments": "employees",
}
"""Tables whose KPIs use the attributes of the customer or employee a row belongs to (``customer.segment``)."""

FIXED_SPLITS: Mapping[str, str] = {"cac_by_channel": "channel", "market_share_by_segment": "segment"}
"""KPIs always split by a dimension of their own, whatever the split asked for."""

Day = Literal["first", "last"]


def pandas_kpis(frames: Mapping[str, pd.DataFrame], *, by: str | None = None) -> pd.DataFrame:
    """Every library KPI by calendar month from the canonical tables, in the rows and columns ``compute`` gives.

    ``frames`` are the tables as ``pandas.read_parquet`` reads them. With ``by``, only the KPIs that can be split
    by that dimension are computed, split by it; KPIs with a split of their own always have it. Rows are sorted
    by KPI, month and segment, an unsplit row's segment being ``None``.
    """
    definitions = load_library()
    keys = list(definitions) if by is None else kpis_splittable_by(definitions, by)
    library = _Library(frames)
    parts = [_result_rows(key, library.kpi(key, FIXED_SPLITS.get(key, by))) for key in keys]
    result = pd.concat(parts, ignore_index=True)
    result["segment"] = result["segment"].where(result["segment"].notna(), None)
    return result.sort_values(["kpi", "period_start", "segment"], na_position="first", ignore_index=True)


def _result_rows(key: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A KPI's frame (``period``, perhaps ``segment``, and some measured columns) in the result's columns."""
    columns = {name: frame.get(name) for name in RESULT_DTYPES}
    columns.update(kpi=key, period_start=frame["period"].dt.start_time.dt.date)
    return pd.DataFrame(columns, index=frame.index).astype(RESULT_DTYPES).reset_index(drop=True)


class _Library:
    """The tables prepared once (dates parsed, months found, customers' and employees' attributes joined in) and
    the KPIs computed from them; each KPI is computed once, as growth rates and derived KPIs reuse others."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self._frames = frames
        self._tables: dict[str, pd.DataFrame] = {}
        self._computed: dict[tuple[str, str | None], pd.DataFrame] = {}
        self._parts: dict[tuple[str, str | None], pd.DataFrame] = {}

    def kpi(self, key: str, split: str | None) -> pd.DataFrame:
        """The KPI's frame, split by ``split`` (a dimension such as segment) or not."""
        if (key, split) not in self._computed:
            if key not in KPIS:
                raise KeyError(f"the pandas benchmark has no implementation of the KPI {key}")
            self._computed[key, split] = KPIS[key](self, split)
        return self._computed[key, split]

    def table(self, name: str) -> pd.DataFrame:
        """A canonical table with its dates as timestamps, a ``<column>_month`` for each, and the attributes of the
        row's customer (``customer_segment``) or employee (``employee_department``) where KPIs need them."""
        if name not in self._tables:
            table = self._frames[name].copy()
            for column in TIME_COLUMNS[name]:
                table[column] = pd.to_datetime(table[column])
                table[f"{column}_month"] = table[column].dt.to_period("M")
            if name in REFERRED:
                owner = REFERRED[name]
                table = table.merge(self.table(owner).add_prefix(f"{owner[:-1]}_"), on=f"{owner[:-1]}_id", how="left")
            self._tables[name] = table
        return self._tables[name]

    def _computed_part(self, name: str, split: str | None, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A measure several KPIs share (the customers who ordered in a month), computed once."""
        if (name, split) not in self._parts:
            self._parts[name, split] = compute()
        return self._parts[name, split]

    # -- Financial ----------------------------------------------------------------------------------------

    def revenue(self, split: str | None) -> pd.DataFrame:
        return _sum(self.table("orders"), "order_date_month", split, "amount")

    def revenue_growth(self, split: str | None) -> pd.DataFrame:
        return _growth(self.kpi("revenue", split), months_back=1)

    def revenue_growth_yoy(self, split: str | None) -> pd.DataFrame:
        return _growth(self.kpi("revenue", split), months_back=12)

    def revenue_ytd(self, split: str | None) -> pd.DataFrame:
        return _year_to_date(self.kpi("revenue", split))

    def revenue_per_active_customer(self, split: str | None) -> pd.DataFrame:
        return _ratio(self.kpi("revenue", split), self._ordering_customers(split))

    def gross_margin_per_customer(self, split: str | None) -> pd.DataFrame:
        margin = _sum(self.table("orders"), "order_date_month", split, "gross_margin")
        return _ratio(margin, self._ordering_customers(split))

    def cac(self, split: str | None) -> pd.DataFrame:
        """Blended CAC, and CAC by channel when split by channel: spend and signups are matched by month."""
        spend = _sum(self.table("marketing_spend"), "spend_date_month", split, "amount")
        return _ratio(spend, self.kpi("new_customers", split))

    def cost_per_acquisition(self, split: str | None) -> pd.DataFrame:
        spend = _sum(self.table("marketing_spend"), "spend_date_month", split, "amount")
        return _ratio(spend, _count(self.table("leads"), "converted_date_month", split))

    def clv_historical(self, split: str | None) -> pd.DataFrame:
        """Revenue to date of each signup cohort, so orders count in the month their customer signed up."""
        cohort_revenue = _sum(self.table("orders"), "customer_signup_date_month", split, "amount")
        return _ratio(cohort_revenue, self.kpi("new_customers", split))

    def clv(self, split: str | None) -> pd.DataFrame:
        margin = self.kpi("gross_margin_per_customer", split)
        churn = self.kpi("customer_churn_rate", split)
        both = _outer(margin, churn, "margin", "churn")
        return both.assign(value=both["margin"] / _nonzero(both["churn"]) * 100)

    def ltv_cac_ratio(self, split: str | None) -> pd.DataFrame:
        both = _outer(self.kpi("clv", split), self.kpi("cac", split), "numerator", "denominator")
        return both.assign(value=both["numerator"] / _nonzero(both["denominator"]))

    def _ordering_customers(self, split: str | None) -> pd.DataFrame:
        """Customers who ordered in the month, counted once; ``n`` counts their orders, the rows behind it."""
        orders = self.table("orders")
        return self._computed_part(
            "ordering_customers",
            split,
            lambda: _per_month(
                orders, "order_date_month", split, value=("customer_id", "nunique"), n=("customer_id", "count")
            ),
        )

    # -- Customer -----------------------------------------------------------------------------------------

    def new_customers(self, split: str | None) -> pd.DataFrame:
        return _count(self.table("customers"), "signup_date_month", split)

    def conversion_rate(self, split: str | None) -> pd.DataFrame:
        """A cohort of leads: those created in the month, and how many of them converted, whenever they did."""
        leads = self.table("leads")
        converted = _count(leads[leads["converted_date"].notna()], "created_date_month", split)
        return _ratio(converted, _count(leads, "created_date_month", split), scale=100)

    def nps(self, split: str | None) -> pd.DataFrame:
        return _net_promoter_score(self._answers("nps"), split)

    def csat(self, split: str | None) -> pd.DataFrame:
        """Top-2-box share, each answer judged against its own scale, with the Wald margin of error."""
        answers = self._answers("csat")
        satisfied = (answers["score"] > answers["scale_max"] - 2).astype(float)
        summary = _per_month(
            answers.assign(satisfied=satisfied),
            "submitted_at_month",
            split,
            n=("score", "count"),
            satisfied=("satisfied", "sum"),
        )
        share = summary["satisfied"] / summary["n"]
        return _survey(
            summary,
            value=100 * share,
            numerator=summary["satisfied"],
            margin_of_error=100 * Z_95 * np.sqrt((share * (1 - share) / summary["n"]).clip(lower=0.0)),
        )

    def ces(self, split: str | None) -> pd.DataFrame:
        """Mean score, with the margin from the sample standard deviation (none from a single answer)."""
        summary = _per_month(
            self._answers("ces"),
            "submitted_at_month",
            split,
            n=("score", "count"),
            total=("score", "sum"),
            deviation=("score", "std"),
        )
        total = summary["total"].astype(float)
        return _survey(
            summary,
            value=total / summary["n"],
            numerator=total,
            margin_of_error=Z_95 * summary["deviation"] / np.sqrt(summary["n"]),
        )

    def customer_retention_rate(self, split: str | None) -> pd.DataFrame:
        cohorts = self._subscription_cohorts(split)
        return _percentage(cohorts, cohorts["retained"], cohorts["customers"].astype(float))

    def customer_churn_rate(self, split: str | None) -> pd.DataFrame:
        cohorts = self._subscription_cohorts(split)
        lost = (cohorts["customers"] - cohorts["retained"]).astype(float)
        return _percentage(cohorts, lost, cohorts["customers"].astype(float))

    def revenue_churn_rate(self, split: str | None) -> pd.DataFrame:
        cohorts = self._subscription_cohorts(split)
        return _percentage(cohorts, cohorts["amount_lost"], cohorts["amount_at_start"])

    def repeat_purchase_rate(self, split: str | None) -> pd.DataFrame:
        """Customers with two or more orders within the month, of those who ordered in it."""
        orders = self.table("orders")
        keys = ["order_date_month", *_dimension(orders, split), "customer_id"]
        per_customer = orders.groupby(keys, dropna=False).agg(orders=("customer_id", "count")).reset_index()
        repeaters = _per_month(
            per_customer[per_customer["orders"] >= 2], "order_date_month", split, value=("customer_id", "count")
        )
        return _ratio(repeaters, self._ordering_customers(split), scale=100)

    def loyalty_engagement(self, split: str | None) -> pd.DataFrame:
        """Members who ordered in the month, of the members signed up by its last day."""
        orders = self.table("orders")
        members_ordering = _per_month(
            orders[orders["customer_loyalty_member"].eq(True)],
            "order_date_month",
            split,
            value=("customer_id", "nunique"),
        )
        customers = self.table("customers")
        members = _stock(customers[customers["loyalty_member"].eq(True)], "signup_date", None, "last", split)
        return _ratio(members_ordering, members, scale=100)

    def market_share(self, split: str | None) -> pd.DataFrame:
        """Revenue of the month over the whole market's, which is the market_totals rows without a segment."""
        totals = self.table("market_totals")
        market = _sum(totals[totals["segment"].isna()], "period_start_month", split, "market_revenue")
        return _ratio(self.kpi("revenue", split), market, scale=100)

    def market_share_by_segment(self, split: str | None) -> pd.DataFrame:
        """Revenue of each customer segment over the market_totals rows of that segment."""
        totals = self.table("market_totals")
        market = _sum(totals[totals["segment"].notna()], "period_start_month", split, "market_revenue")
        return _ratio(self.kpi("revenue", split), market, scale=100)

    def market_share_growth(self, split: str | None) -> pd.DataFrame:
        return _growth(self.kpi("market_share", split), months_back=1)

    def social_engagement_rate(self, split: str | None) -> pd.DataFrame:
        social = self.table("social_engagement")
        engagements = _sum(social, "activity_date_month", split, "engagements")
        return _ratio(engagements, _sum(social, "activity_date_month", split, "impressions"), scale=100)

    def average_review_rating(self, split: str | None) -> pd.DataFrame:
        reviews = self.table("reviews")
        stars = _sum(reviews, "review_date_month", split, "rating")
        return _ratio(stars, _count(reviews, "review_date_month", split))

    def _answers(self, survey_kind: str) -> pd.DataFrame:
        responses = self.table("survey_responses")
        return responses[(responses["survey_kind"] == survey_kind) & responses["score"].notna()]

    def _subscription_cohorts(self, split: str | None) -> pd.DataFrame:
        """For every month, the customers with a subscription active on its first day, how many of them still
        have one on its last day, and their recurring amounts on both days.

        Customers are compared, not subscriptions: a customer switching subscriptions within the month is
        retained, and the amount lost is each customer's drop in recurring amount, never offset by a rise.
        """
        return self._computed_part("subscription_cohorts", split, lambda: self._cohorts_by_month(split))

    def _cohorts_by_month(self, split: str | None) -> pd.DataFrame:
        subscriptions = self.table("subscriptions")
        dimension = _dimension(subscriptions, split)
        rows = subscriptions[["customer_id", "start_date", "end_date", "recurring_amount", *dimension]]
        parts = []
        for month in _months_spanned(rows, "start_date", "end_date"):
            was = _active_on(rows, "start_date", "end_date", _day_of(month, "first"))
            still = _active_on(rows, "start_date", "end_date", _day_of(month, "last"))
            spans = rows[was | still].assign(
                period=month,
                was=was,
                still=still,
                amount_at_start=rows["recurring_amount"].where(was, 0.0),
                amount_at_end=rows["recurring_amount"].where(still, 0.0),
            )
            customers = (
                spans.groupby(["period", *dimension, "customer_id"], dropna=False)
                .agg(
                    was=("was", "max"),
                    still=("still", "max"),
                    amount_at_start=("amount_at_start", "sum"),
                    amount_at_end=("amount_at_end", "sum"),
                )
                .reset_index()
            )
            customers = customers[customers["was"]]
            customers = customers.assign(
                amount_lost=(customers["amount_at_start"] - customers["amount_at_end"]).clip(lower=0.0)
            )
            parts.append(
                _per_month(
                    customers,
                    "period",
                    split,
                    customers=("customer_id", "size"),
                    retained=("still", "sum"),
                    amount_at_start=("amount_at_start", "sum"),
                    amount_lost=("amount_lost", "sum"),
                )
            )
        return pd.concat(parts, ignore_index=True)

    # -- Internal process ---------------------------------------------------------------------------------

    def first_response_time(self, split: str | None) -> pd.DataFrame:
        tickets = self._tickets()
        answered = tickets[tickets["first_response_at"].notna()]
        hours = _sum(answered, "opened_at_month", split, "response_hours")
        return _ratio(hours, _count(answered, "opened_at_month", split))

    def complaint_resolution_time(self, split: str | None) -> pd.DataFrame:
        complaints = self._complaints()
        hours = _sum(complaints, "resolved_at_month", split, "resolution_hours")
        return _ratio(hours, _count(complaints, "resolved_at_month", split))

    def complaint_resolution_time_median(self, split: str | None) -> pd.DataFrame:
        return _percentile(self._complaints(), "resolved_at_month", split, "resolution_hours", 0.5)

    def complaint_resolution_time_p90(self, split: str | None) -> pd.DataFrame:
        return _percentile(self._complaints(), "resolved_at_month", split, "resolution_hours", 0.9)

    def first_contact_resolution(self, split: str | None) -> pd.DataFrame:
        """Of the resolved tickets with a recorded number of contacts, those resolved at the first."""
        tickets = self._tickets()
        recorded = tickets[tickets["contacts_to_resolve"].notna()]
        first_contact = _count(recorded[recorded["contacts_to_resolve"] == 1], "resolved_at_month", split)
        return _ratio(first_contact, _count(recorded, "resolved_at_month", split), scale=100)

    def feedback_response_time(self, split: str | None) -> pd.DataFrame:
        tickets = self._tickets()
        answered = tickets[(tickets["kind"] == "feedback") & tickets["first_response_at"].notna()]
        hours = _sum(answered, "opened_at_month", split, "response_hours")
        return _ratio(hours, _count(answered, "opened_at_month", split))

    def new_products_launched(self, split: str | None) -> pd.DataFrame:
        return _count(self.table("products"), "launch_date_month", split)

    def successful_projects_share(self, split: str | None) -> pd.DataFrame:
        """Projects that ended in the month and met their goals, of those whose success was assessed."""
        projects = self.table("projects")
        assessed = projects[projects["successful"].notna()]
        successful = _count(assessed[assessed["successful"].eq(True)], "end_date_month", split)
        return _ratio(successful, _count(assessed, "end_date_month", split), scale=100)

    def _tickets(self) -> pd.DataFrame:
        """Support tickets with the hours to the first answer and to resolution.

        The library measures durations between whole seconds (fractions of a second dropped from each
        timestamp), the precision every backend it runs on shares, so the hours here are counted alike.
        """
        tickets = self.table("support_tickets")

        def hours_since_opening(moment: str) -> pd.Series:
            return (tickets[moment].dt.floor("s") - tickets["opened_at"].dt.floor("s")).dt.total_seconds() / 3600

        return self._computed_part(
            "tickets",
            None,
            lambda: tickets.assign(
                response_hours=hours_since_opening("first_response_at"),
                resolution_hours=hours_since_opening("resolved_at"),
            ),
        )

    def _complaints(self) -> pd.DataFrame:
        """Complaints, counted in the month they were resolved (open ones have no resolution time yet)."""
        tickets = self._tickets()
        return tickets[(tickets["kind"] == "complaint") & tickets["resolved_at"].notna()]

    # -- Learning and growth ------------------------------------------------------------------------------

    def headcount(self, split: str | None) -> pd.DataFrame:
        return _stock(self.table("employees"), "hire_date", "leave_date", "last", split)

    def employee_turnover(self, split: str | None) -> pd.DataFrame:
        """Leavers of the month over the headcount on its first day."""
        employees = self.table("employees")
        leavers = _count(employees, "leave_date_month", split)
        return _ratio(leavers, _stock(employees, "hire_date", "leave_date", "first", split), scale=100)

    def enps(self, split: str | None) -> pd.DataFrame:
        return _net_promoter_score(self._answers("employee"), split)

    def training_hours_per_fte(self, split: str | None) -> pd.DataFrame:
        hours = _sum(self.table("training_enrollments"), "completed_date_month", split, "hours")
        fte = _stock(self.table("employees"), "hire_date", "leave_date", "last", split, column="fte")
        return _ratio(hours, fte)

    def training_completion_rate(self, split: str | None) -> pd.DataFrame:
        """A cohort of enrolments: those made in the month, and how many of them were completed since."""
        enrollments = self.table("training_enrollments")
        completed = _count(enrollments[enrollments["completed_date"].notna()], "enrolled_date_month", split)
        return _ratio(completed, _count(enrollments, "enrolled_date_month", split), scale=100)

    def learning_objectives_share(self, split: str | None) -> pd.DataFrame:
        enrollments = self.table("training_enrollments")
        assessed = enrollments[enrollments["objectives_met"].notna()]
        met = _count(assessed[assessed["objectives_met"].eq(True)], "completed_date_month", split)
        return _ratio(met, _count(assessed, "completed_date_month", split), scale=100)

    def training_cost_per_employee(self, split: str | None) -> pd.DataFrame:
        """Cost of the enrolments made in the month per employee on its last day, which is the headcount."""
        cost = _sum(self.table("training_enrollments"), "enrolled_date_month", split, "cost")
        return _ratio(cost, self.kpi("headcount", split))

    def revenue_per_trained_employee(self, split: str | None) -> pd.DataFrame:
        """All revenue of the month over the employees who completed a course in it, each counted once."""
        trained = _per_month(
            self.table("training_enrollments"),
            "completed_date_month",
            split,
            value=("employee_id", "nunique"),
            n=("employee_id", "count"),
        )
        return _ratio(self.kpi("revenue", split), trained)

    def training_roi(self, split: str | None) -> pd.DataFrame:
        """Benefit less cost over cost, of the completed courses whose benefit was assessed, in both parts."""
        enrollments = self.table("training_enrollments")
        assessed = enrollments[enrollments["attributed_benefit"].notna()]
        assessed = assessed.assign(net_benefit=assessed["attributed_benefit"] - assessed["cost"])
        net = _sum(assessed, "completed_date_month", split, "net_benefit")
        return _ratio(net, _sum(assessed, "completed_date_month", split, "cost"), scale=100)


KPIS: Mapping[str, Callable[[_Library, str | None], pd.DataFrame]] = {
    "revenue": _Library.revenue,
    "revenue_growth": _Library.revenue_growth,
    "revenue_growth_yoy": _Library.revenue_growth_yoy,
    "revenue_ytd": _Library.revenue_ytd,
    "revenue_per_active_customer": _Library.revenue_per_active_customer,
    "gross_margin_per_customer": _Library.gross_margin_per_customer,
    "cac": _Library.cac,
    "cac_by_channel": _Library.cac,
    "cost_per_acquisition": _Library.cost_per_acquisition,
    "clv_historical": _Library.clv_historical,
    "clv": _Library.clv,
    "ltv_cac_ratio": _Library.ltv_cac_ratio,
    "new_customers": _Library.new_customers,
    "conversion_rate": _Library.conversion_rate,
    "nps": _Library.nps,
    "csat": _Library.csat,
    "ces": _Library.ces,
    "customer_retention_rate": _Library.customer_retention_rate,
    "customer_churn_rate": _Library.customer_churn_rate,
    "revenue_churn_rate": _Library.revenue_churn_rate,
    "repeat_purchase_rate": _Library.repeat_purchase_rate,
    "loyalty_engagement": _Library.loyalty_engagement,
    "market_share": _Library.market_share,
    "market_share_by_segment": _Library.market_share_by_segment,
    "market_share_growth": _Library.market_share_growth,
    "social_engagement_rate": _Library.social_engagement_rate,
    "average_review_rating": _Library.average_review_rating,
    "first_response_time": _Library.first_response_time,
    "complaint_resolution_time": _Library.complaint_resolution_time,
    "complaint_resolution_time_median": _Library.complaint_resolution_time_median,
    "complaint_resolution_time_p90": _Library.complaint_resolution_time_p90,
    "first_contact_resolution": _Library.first_contact_resolution,
    "feedback_response_time": _Library.feedback_response_time,
    "new_products_launched": _Library.new_products_launched,
    "successful_projects_share": _Library.successful_projects_share,
    "headcount": _Library.headcount,
    "employee_turnover": _Library.employee_turnover,
    "enps": _Library.enps,
    "training_hours_per_fte": _Library.training_hours_per_fte,
    "training_completion_rate": _Library.training_completion_rate,
    "learning_objectives_share": _Library.learning_objectives_share,
    "training_cost_per_employee": _Library.training_cost_per_employee,
    "revenue_per_trained_employee": _Library.revenue_per_trained_employee,
    "training_roi": _Library.training_roi,
}
"""How each library KPI is computed; CAC by channel is CAC, always split by channel."""


# -- Measures ---------------------------------------------------------------------------------------------


def _dimension(rows: pd.DataFrame, split: str | None) -> list[str]:
    """The column to split rows by: their own (a ticket's channel is where it came in), else their customer's or
    employee's (an order's segment is its customer's); none when not split."""
    if split is None:
        return []
    for column in (split, f"customer_{split}", f"employee_{split}"):
        if column in rows.columns:
            return [column]
    raise ValueError(f"these rows cannot be split by {split}")


def _per_month(
    rows: pd.DataFrame, month: str, split: str | None, **aggregations: tuple[str, str | Callable[..., object]]
) -> pd.DataFrame:
    """Named aggregations of the rows of each month of the column ``month`` (and of each segment when split), as
    columns ``period`` (and ``segment``); rows without a month, such as leads never converted, count in none."""
    if rows[month].hasnans:
        rows = rows[rows[month].notna()]
    dimension = _dimension(rows, split)
    summary = rows.groupby([month, *dimension], dropna=False).agg(**aggregations).reset_index()
    return summary.rename(columns={month: "period", **dict.fromkeys(dimension, "segment")})


def _sum(rows: pd.DataFrame, month: str, split: str | None, column: str) -> pd.DataFrame:
    """The monthly total of a column, with the rows that have a value in it."""
    summary = _per_month(rows, month, split, value=(column, "sum"), n=(column, "count"))
    return summary.assign(value=summary["value"].astype(float))


def _count(rows: pd.DataFrame, month: str, split: str | None) -> pd.DataFrame:
    """The rows of each month."""
    summary = _per_month(rows, month, split, n=(month, "size"))
    return summary.assign(value=summary["n"].astype(float))


def _percentile(rows: pd.DataFrame, month: str, split: str | None, column: str, share: float) -> pd.DataFrame:
    """The continuous percentile (linear interpolation, numpy's default) of a column in each month."""
    return _per_month(rows, month, split, value=(column, lambda values: values.quantile(share)), n=(column, "count"))


def _stock(
    rows: pd.DataFrame, starts: str, until: str | None, day: Day, split: str | None, column: str | None = None
) -> pd.DataFrame:
    """The rows active on the first or last day of every month from the first start to the last start or end
    date, counted or, given ``column``, its total; ``until`` is the last active day, empty while active."""
    dimension = _dimension(rows, split)
    kept = rows[[starts, *([until] if until else []), *dimension, *([column] if column else [])]]
    value = column or starts
    parts = []
    for month in _months_spanned(kept, starts, until):
        active = kept[_active_on(kept, starts, until, _day_of(month, day))]
        summary = _per_month(
            active.assign(period=month),
            "period",
            split,
            value=(value, "sum" if column else "size"),
            n=(value, "count"),
        )
        parts.append(summary.assign(value=summary["value"].astype(float)))
    return pd.concat(parts, ignore_index=True)


def _months_spanned(rows: pd.DataFrame, starts: str, until: str | None) -> pd.PeriodIndex:
    """Every month from the first start to the last start or end date; stocks and cohorts have a row for each."""
    if rows.empty:
        return pd.PeriodIndex([], freq="M")
    dates = pd.concat([rows[starts], rows[until]]) if until else rows[starts]
    return pd.period_range(rows[starts].min(), dates.max(), freq="M")


def _day_of(month: pd.Period, day: Day) -> pd.Timestamp:
    return month.start_time if day == "first" else month.end_time.normalize()


def _active_on(rows: pd.DataFrame, starts: str, until: str | None, day: pd.Timestamp) -> pd.Series:
    """Started on or before ``day`` and, with an ``until`` column, not ended before it."""
    active = rows[starts] <= day
    if until is not None:
        active &= rows[until].isna() | (rows[until] >= day)
    return active


# -- KPIs from measures -----------------------------------------------------------------------------------


def _keys(frame: pd.DataFrame) -> list[str]:
    return [key for key in ("period", "segment") if key in frame.columns]


def _nonzero(values: pd.Series) -> pd.Series:
    """The values with 0 made missing, so that dividing by 0 gives no value rather than infinity."""
    return values.where(values != 0)


def _ratio(numerator: pd.DataFrame, denominator: pd.DataFrame, *, scale: float = 1) -> pd.DataFrame:
    """The ratio of two measures for every month (and segment) either has; a missing part is 0 there.

    ``n`` is the denominator's rows; a denominator of 0 gives no value.
    """
    keys = _keys(numerator)
    parts = numerator[[*keys, "value"]].merge(
        denominator[[*keys, "value", "n"]], on=keys, how="outer", suffixes=("_top", "_bottom")
    )
    top = parts["value_top"].fillna(0.0)
    bottom = parts["value_bottom"].fillna(0.0)
    return parts[keys].assign(
        value=scale * top / _nonzero(bottom), numerator=top, denominator=bottom, n=parts["n"].fillna(0)
    )


def _percentage(cohorts: pd.DataFrame, part: pd.Series, whole: pd.Series) -> pd.DataFrame:
    """A cohort KPI: ``part`` in percent of ``whole``, with the customers active at the start as ``n``."""
    return cohorts[_keys(cohorts)].assign(
        value=100 * part / _nonzero(whole), numerator=part, denominator=whole, n=cohorts["customers"]
    )


def _growth(base: pd.DataFrame, *, months_back: int) -> pd.DataFrame:
    """The change of a KPI against its value ``months_back`` months before, in percent of that value.

    A month whose comparison month has no row, no value or a value of 0 has no growth value; ``n`` is the month's.
    """
    keys = _keys(base)
    earlier = base[[*keys, "value"]].assign(period=base["period"] + months_back).rename(columns={"value": "before"})
    both = base[[*keys, "value", "n"]].merge(earlier, on=keys, how="left")
    change = both["value"] - both["before"]
    return both[[*keys, "n"]].assign(
        value=100 * change / _nonzero(both["before"]), numerator=change, denominator=both["before"]
    )


def _year_to_date(monthly: pd.DataFrame) -> pd.DataFrame:
    """The running total within each calendar year, for every month from the first to the last with data.

    A month without data inside the year keeps the total so far; a segment has a row once it has data in the year.
    """
    keys = _keys(monthly)
    parts = []
    for month in pd.period_range(monthly["period"].min(), monthly["period"].max(), freq="M"):
        so_far = monthly[(monthly["period"] <= month) & (monthly["period"].dt.year == month.year)]
        parts.append(
            so_far.assign(period=month).groupby(keys, dropna=False).agg(value=("value", "sum"), n=("n", "sum"))
        )
    return pd.concat(parts).reset_index()


def _outer(first: pd.DataFrame, second: pd.DataFrame, first_name: str, second_name: str) -> pd.DataFrame:
    """Two KPIs' values side by side for every month (and segment) either has, for a KPI computed from both."""
    keys = _keys(first)
    return (
        first[[*keys, "value"]]
        .rename(columns={"value": first_name})
        .merge(second[[*keys, "value"]].rename(columns={"value": second_name}), on=keys, how="outer")
    )


def _net_promoter_score(answers: pd.DataFrame, split: str | None) -> pd.DataFrame:
    """Percentage of promoters (9–10) less that of detractors (0–6); each answer scores +1, 0 or −1, whose
    variance p₊ + p₋ − (p₊ − p₋)² gives the margin of error."""
    scored = answers.assign(
        promoter=(answers["score"] >= 9).astype(float), detractor=(answers["score"] <= 6).astype(float)
    )
    summary = _per_month(
        scored,
        "submitted_at_month",
        split,
        n=("score", "count"),
        promoters=("promoter", "sum"),
        detractors=("detractor", "sum"),
    )
    promoters = summary["promoters"] / summary["n"]
    detractors = summary["detractors"] / summary["n"]
    variance = promoters + detractors - (promoters - detractors) ** 2
    return _survey(
        summary,
        value=100 * (promoters - detractors),
        numerator=summary["promoters"] - summary["detractors"],
        margin_of_error=100 * Z_95 * np.sqrt((variance / summary["n"]).clip(lower=0.0)),
    )


def _survey(
    summary: pd.DataFrame, *, value: pd.Series, numerator: pd.Series, margin_of_error: pd.Series
) -> pd.DataFrame:
    """A survey KPI: its value as a ratio over the answers, which are ``n``, and flagged when too few."""
    return summary[_keys(summary)].assign(
        value=value,
        numerator=numerator,
        denominator=summary["n"].astype(float),
        n=summary["n"],
        margin_of_error=margin_of_error,
        too_few_responses=summary["n"] < MIN_RESPONSES,
    )
