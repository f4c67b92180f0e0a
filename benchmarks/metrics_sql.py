"""Hand-written DuckDB SQL for every KPI of the library, at the month grain: the reference of the benchmark.

The queries are written the way an analyst writes SQL against the canonical tables — each table scanned once
into monthly totals (one row per month and segment), every KPI then read from those totals — following
``docs/kpi-library.md`` and the choice points of the definitions. They are neither generated from the
definitions nor copied from what the compiler emits: two independent implementations that agree to 1e-9
are evidence that both are right (``tests/test_benchmark_references.py``), and the time this SQL takes is
what the compiled KPIs are measured against (``benchmarks/metrics.py``).

What the SQL keeps to, because the library documents it so:

* A row counts in the month of its date, the UTC month of a timestamp; a row without that date is in no month.
* A flow KPI (orders, tickets, surveys) has a row only for the months, and segments, that have rows for it;
  within such a month a count or sum without rows is 0, hence the ``coalesce`` after each full join.
* A stock (headcount, loyalty members, subscribers) is counted on a calendar of months running from its first
  date to its last, start or end, and has a row in the months in which something is active.
* A division by zero gives no value: every denominator goes through ``nullif``.
* ``n`` is the number of rows behind the value: the denominator's rows for a ratio (orders for a count of
  distinct customers), the answers of a survey, the customers at the start of a month for a cohort.
* A duration is whole seconds apart, in hours; medians and p90 are continuous percentiles.
* A year to date is the calendar year's, as ``compute`` counts it unless told of another fiscal year.
* Split by segment, a row goes to the segment of its customer (orders, subscriptions, tickets) or to the
  segment written on it (survey answers, market totals). CAC by channel is always split by channel, and
  market share by segment always by segment.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

from fourfold.metrics.compile import RESULT_SCHEMA

MIN_RESPONSES = 30
"""A survey value resting on fewer answers is flagged as too few responses."""

SPLITTABLE_BY_SEGMENT = frozenset(
    {
        "revenue",
        "revenue_growth",
        "revenue_growth_yoy",
        "revenue_ytd",
        "revenue_per_active_customer",
        "gross_margin_per_customer",
        "clv_historical",
        "clv",
        "new_customers",
        "nps",
        "csat",
        "ces",
        "customer_retention_rate",
        "customer_churn_rate",
        "revenue_churn_rate",
        "repeat_purchase_rate",
        "loyalty_engagement",
        "market_share_by_segment",
        "first_response_time",
        "complaint_resolution_time",
        "complaint_resolution_time_median",
        "complaint_resolution_time_p90",
        "first_contact_resolution",
        "feedback_response_time",
        "enps",
    }
)
"""The KPIs computed with ``by="segment"``: those the library lets be split by segment, and market share by
segment, which always is."""


@dataclass(frozen=True)
class _Step:
    """One common table expression: its SQL and the expressions it reads, each as many times as it does."""

    sql: str
    reads: tuple[str, ...] = ()


def _rows(
    source: str,
    *,
    value: str,
    numerator: str = "NULL",
    denominator: str = "NULL",
    n: str = "NULL",
    margin_of_error: str = "NULL",
    too_few_responses: str = "NULL",
    month: str = "month",
    segment: str = "segment",
    where: str | None = None,
) -> str:
    """A KPI's rows in the result's columns, from one source (a table expression, possibly a join)."""
    condition = f"\n    WHERE {where}" if where else ""
    return f"""
    SELECT {month} AS period_start, {segment} AS segment, {value} AS value,
           {numerator} AS numerator, {denominator} AS denominator, {n} AS n,
           {margin_of_error} AS margin_of_error, {too_few_responses} AS too_few_responses
    FROM {source}{condition}"""


def _ratio(
    source: str,
    top: str,
    bottom: str,
    n: str,
    *,
    scale: int = 1,
    where: str | None = None,
    segment: str = "segment",
) -> str:
    """A ratio KPI: ``scale × top / bottom``, no value when the bottom is 0."""
    times = f"{scale} * " if scale != 1 else ""
    return _rows(
        source,
        value=f"{times}{top} / nullif({bottom}, 0)",
        numerator=top,
        denominator=bottom,
        n=n,
        where=where,
        segment=segment,
    )


def _joined_ratio(
    top_source: str,
    bottom_source: str,
    top: str,
    bottom: str,
    n: str,
    *,
    scale: int = 1,
    on_segment: bool = True,
) -> str:
    """A ratio of two monthly totals ``a`` (numerator) and ``b`` (denominator) that need not cover the same
    months: a full join, a missing side counting 0, as for any month that has data for either part."""
    segment_match = " AND a.segment IS NOT DISTINCT FROM b.segment" if on_segment else ""
    source = f"{top_source} a\n    FULL JOIN {bottom_source} b ON a.month = b.month{segment_match}"
    top_value, bottom_value, rows = f"coalesce({top}, 0)", f"coalesce({bottom}, 0)", f"coalesce({n}, 0)"
    times = f"{scale} * " if scale != 1 else ""
    return _rows(
        source,
        month="coalesce(a.month, b.month)",
        segment="coalesce(a.segment, b.segment)" if on_segment else "NULL",
        value=f"{times}{top_value} / nullif({bottom_value}, 0)",
        numerator=top_value,
        denominator=bottom_value,
        n=rows,
    )


def _growth(base: str, months: int) -> str:
    """Growth of a KPI against its value ``months`` earlier, for every month the KPI has."""
    source = (
        f"kpi_{base} now\n    LEFT JOIN kpi_{base} before ON before.period_start = "
        f"CAST(now.period_start - INTERVAL {months} MONTH AS DATE) AND before.segment IS NOT DISTINCT FROM now.segment"
    )
    return _rows(
        source,
        month="now.period_start",
        segment="now.segment",
        value="100 * (now.value - before.value) / nullif(before.value, 0)",
        numerator="now.value - before.value",
        denominator="before.value",
        n="now.n",
    )


def _calendar(table: str, first: str, last: str, *, where: str | None = None, since: date | None = None) -> str:
    """Every month from the month of ``first`` to that of ``last`` over ``table``: the calendar of a stock;
    with ``since``, its months from then on, the calendar still running from the first date of all rows."""
    condition = f" WHERE {where}" if where else ""
    months = f"""
    SELECT CAST(unnest(generate_series(date_trunc('month', {first}), date_trunc('month', {last}),
                                       INTERVAL 1 MONTH)) AS DATE) AS month
    FROM {table}{condition}"""
    if since is None:
        return months
    return f"""
    SELECT month FROM ({months}
    ) every_month
    WHERE month >= {_day(since)}"""


def _day(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _month(column: str) -> str:
    return f"CAST(date_trunc('month', {column}) AS DATE)"


def _steps(by_segment: bool, since: date | None) -> dict[str, _Step]:
    """Every table expression by name.

    ``by_segment`` chooses the segment column of each monthly total: the segment of the row's customer, joined
    in as ``c``, or the row's own ``segment`` column; or no segment at all. With ``since`` (a first day of a
    month) only the months from then on are wanted, so the big tables are read only as far as needed: orders of
    the twelve months before, which growth on the year and the year to date read, or of customers signed up
    since, whose cohorts take every order; subscriptions and staff counted in those months only. The small
    tables are read whole.
    """
    customer_segment = "c.segment" if by_segment else "CAST(NULL AS VARCHAR)"
    segment = "segment" if by_segment else "CAST(NULL AS VARCHAR)"
    ticket_customers = "LEFT JOIN customers c ON c.id = t.customer_id" if by_segment else ""
    subscription_customers = "LEFT JOIN customers c ON c.id = s.customer_id" if by_segment else ""
    complaint = "kind = 'complaint'"
    recent_orders = ""
    if since is not None:
        year_before = date(since.year - 1, since.month, 1)
        recent_orders = f"""
        WHERE order_date >= {_day(year_before)}
           OR customer_id IN (SELECT id FROM customers WHERE signup_date >= {_day(since)})"""

    def subscription_months(customers: str) -> str:
        """Every month a subscription overlaps, whether it runs on the month's first and last day, for the
        ``customers`` with one subscription (``NOT several``) or with several."""
        return f"""
        SELECT s.customer_id, m.month, s.segment, s.recurring_amount,
               s.start_date <= m.month AND (s.end_date IS NULL OR s.end_date >= m.month) AS on_first_day,
               s.start_date <= last_day(m.month)
                   AND (s.end_date IS NULL OR s.end_date >= last_day(m.month)) AS on_last_day
        FROM subscribers s
        JOIN subscription_calendar m
          ON m.month BETWEEN {_month("s.start_date")} AND coalesce(s.end_date, m.month)
        WHERE {customers}"""

    steps = {
        # -- Orders: one row per customer and month they ordered in, with what we know of the customer.
        "customer_months": _Step(
            f"""
    SELECT o.customer_id, o.month, o.orders, o.revenue, o.margin, c.segment, c.signup_date, c.loyalty_member
    FROM (
        SELECT customer_id, {_month("order_date")} AS month,
               count(*) AS orders, sum(amount) AS revenue, sum(gross_margin) AS margin
        FROM orders{recent_orders}
        GROUP BY customer_id, month
    ) o
    LEFT JOIN customers c ON c.id = o.customer_id"""
        ),
        "order_totals": _Step(
            f"""
    SELECT month, {segment} AS segment,
           sum(revenue) AS revenue, sum(margin) AS margin, sum(orders) AS orders,
           count(*) AS buyers,
           count(*) FILTER (WHERE orders >= 2) AS repeat_buyers,
           count(*) FILTER (WHERE loyalty_member) AS loyal_buyers
    FROM customer_months
    GROUP BY ALL""",
            ("customer_months",),
        ),
        "segment_revenue": _Step(
            """
    SELECT month, segment, sum(revenue) AS revenue
    FROM customer_months
    GROUP BY ALL""",
            ("customer_months",),
        ),
        "cohort_revenue": _Step(
            f"""
    SELECT {_month("signup_date")} AS month, {segment} AS segment, sum(revenue) AS revenue
    FROM customer_months
    WHERE signup_date IS NOT NULL
    GROUP BY ALL""",
            ("customer_months",),
        ),
        # -- Customers: sign-ups by month, and loyalty members on each month's last day.
        "signups": _Step(
            f"""
    SELECT {_month("signup_date")} AS month, {segment} AS segment,
           count(*) AS customers, count(*) FILTER (WHERE loyalty_member) AS loyal
    FROM customers
    GROUP BY ALL"""
        ),
        "loyalty_calendar": _Step(
            _calendar("signups", "min(month)", "max(month)", where="loyal > 0", since=since),
            ("signups",),
        ),
        "loyal_members": _Step(
            """
    SELECT m.month, s.segment, sum(s.loyal) AS members
    FROM loyalty_calendar m
    JOIN signups s ON s.month <= m.month AND s.loyal > 0
    GROUP BY ALL""",
            ("loyalty_calendar", "signups"),
        ),
        "channel_signups": _Step(
            f"""
    SELECT {_month("signup_date")} AS month, channel AS segment, count(*) AS customers
    FROM customers
    GROUP BY ALL"""
        ),
        # -- Marketing spend, leads and market totals.
        "spend": _Step(
            f"""
    SELECT {_month("spend_date")} AS month, channel AS segment, sum(amount) AS spend
    FROM marketing_spend
    GROUP BY ALL"""
        ),
        "monthly_spend": _Step("SELECT month, sum(spend) AS spend FROM spend GROUP BY month", ("spend",)),
        "lead_cohorts": _Step(
            f"""
    SELECT {_month("created_date")} AS month, count(*) AS leads, count(converted_date) AS converted
    FROM leads
    GROUP BY month"""
        ),
        "conversions": _Step(
            f"""
    SELECT {_month("converted_date")} AS month, count(*) AS conversions
    FROM leads
    WHERE converted_date IS NOT NULL
    GROUP BY month"""
        ),
        "markets": _Step(
            f"""
    SELECT {_month("period_start")} AS month, segment,
           sum(market_revenue) AS market_revenue, count(market_revenue) AS figures
    FROM market_totals
    GROUP BY ALL"""
        ),
        # -- Subscriptions: each customer in each month a subscription of theirs overlaps, whether they were
        # subscribed on its first and its last day, and their recurring revenue on each.
        "subscription_calendar": _Step(
            _calendar("subscriptions", "min(start_date)", "greatest(max(start_date), max(end_date))", since=since)
        ),
        # Subscriptions with the customer's segment, and whether the customer has several, found before they
        # are spread over months, where there are far more rows to join.
        "subscribers": _Step(
            f"""
    SELECT s.customer_id, s.start_date, s.end_date, s.recurring_amount, {customer_segment} AS segment,
           s.customer_id IN (
               SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING count(*) > 1
           ) AS several
    FROM subscriptions s
    {subscription_customers}"""
        ),
        # Most customers have one subscription, whose months are the customer's months as they are; only the
        # months of customers with several are taken together, so that each customer counts once.
        "subscriber_months": _Step(
            f"""
    SELECT month, segment, on_first_day AS at_start, on_last_day AS at_end,
           CASE WHEN on_first_day THEN recurring_amount END AS revenue_at_start,
           CASE WHEN on_last_day THEN recurring_amount ELSE 0 END AS revenue_at_end
    FROM ({subscription_months("NOT several")}
    ) one
    UNION ALL
    SELECT month, segment,
           bool_or(on_first_day) AS at_start,
           bool_or(on_last_day) AS at_end,
           sum(recurring_amount) FILTER (WHERE on_first_day) AS revenue_at_start,
           coalesce(sum(recurring_amount) FILTER (WHERE on_last_day), 0) AS revenue_at_end
    FROM ({subscription_months("several")}
    ) several
    GROUP BY customer_id, month, segment""",
            ("subscription_calendar", "subscribers", "subscription_calendar", "subscribers"),
        ),
        "subscriber_cohorts": _Step(
            """
    SELECT month, segment,
           count(*) AS customers,
           count(*) FILTER (WHERE at_end) AS retained,
           sum(revenue_at_start) AS revenue_at_start,
           sum(greatest(revenue_at_start - revenue_at_end, 0)) AS revenue_lost
    FROM subscriber_months
    WHERE at_start
    GROUP BY ALL""",
            ("subscriber_months",),
        ),
        # -- Surveys: every kind's answers by month, with what NPS, CSAT and CES need.
        "survey_months": _Step(
            f"""
    SELECT survey_kind, month, segment, answers, promoters, detractors, satisfied, score_total, score_sd,
           promoters / answers AS promoter_share,
           detractors / answers AS detractor_share,
           satisfied / answers AS satisfied_share
    FROM (
        SELECT survey_kind, {_month("submitted_at")} AS month, {segment} AS segment,
               count(*) AS answers,
               count(*) FILTER (WHERE score >= 9) AS promoters,
               count(*) FILTER (WHERE score <= 6) AS detractors,
               count(*) FILTER (WHERE score > scale_max - 2) AS satisfied,
               sum(score) AS score_total,
               stddev_samp(score) AS score_sd
        FROM survey_responses
        WHERE score IS NOT NULL AND submitted_at IS NOT NULL
        GROUP BY ALL
    ) answered"""
        ),
        # -- Support tickets: durations in whole seconds, as hours; by month opened and month resolved.
        "tickets": _Step(
            f"""
    SELECT t.kind, t.opened_at, t.first_response_at, t.resolved_at, t.contacts_to_resolve,
           {customer_segment} AS segment,
           date_diff('second', t.opened_at, t.first_response_at) / 3600 AS response_hours,
           date_diff('second', t.opened_at, t.resolved_at) / 3600 AS resolution_hours
    FROM support_tickets t
    {ticket_customers}"""
        ),
        "ticket_openings": _Step(
            f"""
    SELECT {_month("opened_at")} AS month, segment,
           count(*) AS answered, sum(response_hours) AS response_hours,
           count(*) FILTER (WHERE kind = 'feedback') AS feedback_answered,
           sum(response_hours) FILTER (WHERE kind = 'feedback') AS feedback_hours
    FROM tickets
    WHERE first_response_at IS NOT NULL
    GROUP BY ALL""",
            ("tickets",),
        ),
        "ticket_resolutions": _Step(
            f"""
    SELECT {_month("resolved_at")} AS month, segment,
           count(*) FILTER (WHERE {complaint}) AS complaints,
           sum(resolution_hours) FILTER (WHERE {complaint}) AS complaint_hours,
           quantile_cont(resolution_hours, 0.5) FILTER (WHERE {complaint}) AS complaint_median,
           quantile_cont(resolution_hours, 0.9) FILTER (WHERE {complaint}) AS complaint_p90,
           count(*) FILTER (WHERE contacts_to_resolve = 1) AS first_contact,
           count(contacts_to_resolve) AS with_contacts
    FROM tickets
    WHERE resolved_at IS NOT NULL
    GROUP BY ALL""",
            ("tickets",),
        ),
        # -- Employees and training: staff on each month's first and last day, leavers, courses.
        "employee_calendar": _Step(
            _calendar("employees", "min(hire_date)", "greatest(max(hire_date), max(leave_date))", since=since)
        ),
        "staff": _Step(
            """
    SELECT month,
           count(*) FILTER (WHERE on_first_day) AS on_first_day,
           count(*) FILTER (WHERE on_last_day) AS on_last_day,
           sum(fte) FILTER (WHERE on_last_day) AS fte,
           count(fte) FILTER (WHERE on_last_day) AS fte_rows
    FROM (
        SELECT m.month, e.fte,
               e.hire_date <= m.month AND (e.leave_date IS NULL OR e.leave_date >= m.month) AS on_first_day,
               e.hire_date <= last_day(m.month)
                   AND (e.leave_date IS NULL OR e.leave_date >= last_day(m.month)) AS on_last_day
        FROM employee_calendar m
        CROSS JOIN employees e
    ) employed
    GROUP BY month""",
            ("employee_calendar",),
        ),
        "leavers": _Step(
            f"""
    SELECT {_month("leave_date")} AS month, count(*) AS leavers
    FROM employees
    WHERE leave_date IS NOT NULL
    GROUP BY month"""
        ),
        "enrolments": _Step(
            f"""
    SELECT {_month("enrolled_date")} AS month,
           count(*) AS enrolled, count(completed_date) AS completed, sum(cost) AS cost
    FROM training_enrollments
    GROUP BY month"""
        ),
        "completions": _Step(
            f"""
    SELECT {_month("completed_date")} AS month,
           sum(hours) AS hours,
           count(DISTINCT employee_id) AS trained, count(employee_id) AS completions,
           count(*) FILTER (WHERE objectives_met) AS objectives_met,
           count(objectives_met) AS assessed,
           count(*) FILTER (WHERE attributed_benefit IS NOT NULL) AS with_benefit,
           sum(attributed_benefit - cost) FILTER (WHERE attributed_benefit IS NOT NULL) AS net_benefit,
           sum(cost) FILTER (WHERE attributed_benefit IS NOT NULL) AS benefit_cost,
           count(cost) FILTER (WHERE attributed_benefit IS NOT NULL) AS benefit_cost_rows
    FROM training_enrollments
    WHERE completed_date IS NOT NULL
    GROUP BY month"""
        ),
        # -- The rest: products, projects, social media and reviews.
        "launches": _Step(
            f"SELECT {_month('launch_date')} AS month, count(*) AS launched FROM products GROUP BY month"
        ),
        "project_ends": _Step(
            f"""
    SELECT {_month("end_date")} AS month, count(*) FILTER (WHERE successful) AS successful, count(*) AS assessed
    FROM projects
    WHERE end_date IS NOT NULL AND successful IS NOT NULL
    GROUP BY month"""
        ),
        "social": _Step(
            f"""
    SELECT {_month("activity_date")} AS month,
           sum(engagements) AS engagements, sum(impressions) AS impressions, count(impressions) AS days
    FROM social_engagement
    GROUP BY month"""
        ),
        "ratings": _Step(
            f"""
    SELECT {_month("review_date")} AS month, sum(rating) AS stars, count(*) AS reviews
    FROM reviews
    GROUP BY month"""
        ),
    }
    steps.update(_kpis())
    return steps


def _kpis() -> dict[str, _Step]:
    """Each KPI's rows, ``kpi_<key>``, from the monthly totals; growth and derived KPIs from other KPIs."""
    surveys = "survey_months"
    nps_margin = (
        "100 * 1.96 * sqrt(greatest((promoter_share + detractor_share"
        " - power(promoter_share - detractor_share, 2)) / answers, 0))"
    )
    too_few = f"answers < {MIN_RESPONSES}"

    def nps(kind: str) -> _Step:
        return _Step(
            _rows(
                surveys,
                value="100 * (promoter_share - detractor_share)",
                numerator="promoters - detractors",
                denominator="answers",
                n="answers",
                margin_of_error=nps_margin,
                too_few_responses=too_few,
                where=f"survey_kind = '{kind}'",
            ),
            (surveys,),
        )

    kpis = {
        # -- Financial
        "revenue": _Step(_rows("order_totals", value="revenue", n="orders"), ("order_totals",)),
        "revenue_growth": _Step(_growth("revenue", 1), ("kpi_revenue", "kpi_revenue")),
        "revenue_growth_yoy": _Step(_growth("revenue", 12), ("kpi_revenue", "kpi_revenue")),
        "revenue_ytd": _Step(
            f"""
    SELECT y.month AS period_start, t.segment, sum(t.revenue) AS value, NULL AS numerator, NULL AS denominator,
           sum(t.orders) AS n, NULL AS margin_of_error, NULL AS too_few_responses
    FROM ({_calendar("order_totals", "min(month)", "max(month)")}
    ) y
    JOIN order_totals t ON t.month <= y.month AND t.month >= date_trunc('year', y.month)
    GROUP BY y.month, t.segment""",
            ("order_totals", "order_totals"),
        ),
        "revenue_per_active_customer": _Step(_ratio("order_totals", "revenue", "buyers", "orders"), ("order_totals",)),
        "gross_margin_per_customer": _Step(
            _ratio("order_totals", "coalesce(margin, 0)", "buyers", "orders"), ("order_totals",)
        ),
        "cac": _Step(
            _joined_ratio("monthly_spend", "signups", "a.spend", "b.customers", "b.customers", on_segment=False),
            ("monthly_spend", "signups"),
        ),
        "cac_by_channel": _Step(
            _joined_ratio("spend", "channel_signups", "a.spend", "b.customers", "b.customers"),
            ("spend", "channel_signups"),
        ),
        "cost_per_acquisition": _Step(
            _joined_ratio(
                "monthly_spend", "conversions", "a.spend", "b.conversions", "b.conversions", on_segment=False
            ),
            ("monthly_spend", "conversions"),
        ),
        "clv_historical": _Step(
            _joined_ratio("cohort_revenue", "signups", "a.revenue", "b.customers", "b.customers"),
            ("cohort_revenue", "signups"),
        ),
        "clv": _Step(
            _rows(
                "kpi_gross_margin_per_customer margin\n    FULL JOIN kpi_customer_churn_rate churn"
                " ON margin.period_start = churn.period_start AND margin.segment IS NOT DISTINCT FROM churn.segment",
                month="coalesce(margin.period_start, churn.period_start)",
                segment="coalesce(margin.segment, churn.segment)",
                value="margin.value / nullif(churn.value, 0) * 100",
            ),
            ("kpi_gross_margin_per_customer", "kpi_customer_churn_rate"),
        ),
        "ltv_cac_ratio": _Step(
            _rows(
                "kpi_clv clv\n    FULL JOIN kpi_cac cac"
                " ON clv.period_start = cac.period_start AND clv.segment IS NOT DISTINCT FROM cac.segment",
                month="coalesce(clv.period_start, cac.period_start)",
                segment="coalesce(clv.segment, cac.segment)",
                value="clv.value / nullif(cac.value, 0)",
                numerator="clv.value",
                denominator="cac.value",
            ),
            ("kpi_clv", "kpi_cac"),
        ),
        # -- Customer
        "new_customers": _Step(_rows("signups", value="customers", n="customers"), ("signups",)),
        "conversion_rate": _Step(
            _ratio("lead_cohorts", "converted", "leads", "leads", scale=100, segment="NULL"),
            ("lead_cohorts",),
        ),
        "nps": nps("nps"),
        "csat": _Step(
            _rows(
                surveys,
                value="100 * satisfied_share",
                numerator="satisfied",
                denominator="answers",
                n="answers",
                margin_of_error="100 * 1.96 * sqrt(greatest(satisfied_share * (1 - satisfied_share) / answers, 0))",
                too_few_responses=too_few,
                where="survey_kind = 'csat'",
            ),
            (surveys,),
        ),
        "ces": _Step(
            _rows(
                surveys,
                value="score_total / answers",
                numerator="score_total",
                denominator="answers",
                n="answers",
                margin_of_error="1.96 * score_sd / sqrt(answers)",
                too_few_responses=too_few,
                where="survey_kind = 'ces'",
            ),
            (surveys,),
        ),
        "customer_retention_rate": _Step(
            _ratio("subscriber_cohorts", "retained", "customers", "customers", scale=100), ("subscriber_cohorts",)
        ),
        "customer_churn_rate": _Step(
            _ratio("subscriber_cohorts", "(customers - retained)", "customers", "customers", scale=100),
            ("subscriber_cohorts",),
        ),
        "revenue_churn_rate": _Step(
            _ratio("subscriber_cohorts", "revenue_lost", "revenue_at_start", "customers", scale=100),
            ("subscriber_cohorts",),
        ),
        "repeat_purchase_rate": _Step(
            _ratio("order_totals", "repeat_buyers", "buyers", "orders", scale=100), ("order_totals",)
        ),
        "loyalty_engagement": _Step(
            _joined_ratio(
                "(SELECT * FROM order_totals WHERE loyal_buyers > 0)",
                "loyal_members",
                "a.loyal_buyers",
                "b.members",
                "b.members",
                scale=100,
            ),
            ("order_totals", "loyal_members"),
        ),
        "market_share": _Step(
            _joined_ratio(
                "order_totals",
                "(SELECT * FROM markets WHERE segment IS NULL)",
                "a.revenue",
                "b.market_revenue",
                "b.figures",
                scale=100,
                on_segment=False,
            ),
            ("order_totals", "markets"),
        ),
        "market_share_by_segment": _Step(
            _joined_ratio(
                "segment_revenue",
                "(SELECT * FROM markets WHERE segment IS NOT NULL)",
                "a.revenue",
                "b.market_revenue",
                "b.figures",
                scale=100,
            ),
            ("segment_revenue", "markets"),
        ),
        "market_share_growth": _Step(_growth("market_share", 1), ("kpi_market_share", "kpi_market_share")),
        "social_engagement_rate": _Step(
            _ratio("social", "engagements", "impressions", "days", scale=100, segment="NULL"),
            ("social",),
        ),
        "average_review_rating": _Step(
            _ratio("ratings", "stars", "reviews", "reviews", segment="NULL"),
            ("ratings",),
        ),
        # -- Internal process
        "first_response_time": _Step(
            _ratio("ticket_openings", "response_hours", "answered", "answered"), ("ticket_openings",)
        ),
        "complaint_resolution_time": _Step(
            _ratio("ticket_resolutions", "complaint_hours", "complaints", "complaints", where="complaints > 0"),
            ("ticket_resolutions",),
        ),
        "complaint_resolution_time_median": _Step(
            _rows("ticket_resolutions", value="complaint_median", n="complaints", where="complaints > 0"),
            ("ticket_resolutions",),
        ),
        "complaint_resolution_time_p90": _Step(
            _rows("ticket_resolutions", value="complaint_p90", n="complaints", where="complaints > 0"),
            ("ticket_resolutions",),
        ),
        "first_contact_resolution": _Step(
            _ratio(
                "ticket_resolutions",
                "first_contact",
                "with_contacts",
                "with_contacts",
                scale=100,
                where="with_contacts > 0",
            ),
            ("ticket_resolutions",),
        ),
        "feedback_response_time": _Step(
            _ratio(
                "ticket_openings",
                "feedback_hours",
                "feedback_answered",
                "feedback_answered",
                where="feedback_answered > 0",
            ),
            ("ticket_openings",),
        ),
        "new_products_launched": _Step(
            _rows("launches", segment="NULL", value="launched", n="launched"), ("launches",)
        ),
        "successful_projects_share": _Step(
            _ratio("project_ends", "successful", "assessed", "assessed", scale=100, segment="NULL"),
            ("project_ends",),
        ),
        # -- Learning and growth
        "headcount": _Step(
            _rows("staff", segment="NULL", value="on_last_day", n="on_last_day", where="on_last_day > 0"), ("staff",)
        ),
        "employee_turnover": _Step(
            _joined_ratio(
                "leavers",
                "(SELECT * FROM staff WHERE on_first_day > 0)",
                "a.leavers",
                "b.on_first_day",
                "b.on_first_day",
                scale=100,
                on_segment=False,
            ),
            ("leavers", "staff"),
        ),
        "enps": nps("employee"),
        "training_hours_per_fte": _Step(
            _joined_ratio(
                "completions",
                "(SELECT * FROM staff WHERE on_last_day > 0)",
                "a.hours",
                "b.fte",
                "b.fte_rows",
                on_segment=False,
            ),
            ("completions", "staff"),
        ),
        "training_completion_rate": _Step(
            _ratio("enrolments", "completed", "enrolled", "enrolled", scale=100, segment="NULL"),
            ("enrolments",),
        ),
        "learning_objectives_share": _Step(
            _ratio(
                "completions", "objectives_met", "assessed", "assessed", scale=100, where="assessed > 0", segment="NULL"
            ),
            ("completions",),
        ),
        "training_cost_per_employee": _Step(
            _joined_ratio(
                "enrolments",
                "(SELECT * FROM staff WHERE on_last_day > 0)",
                "a.cost",
                "b.on_last_day",
                "b.on_last_day",
                on_segment=False,
            ),
            ("enrolments", "staff"),
        ),
        "revenue_per_trained_employee": _Step(
            _joined_ratio("order_totals", "completions", "a.revenue", "b.trained", "b.completions", on_segment=False),
            ("order_totals", "completions"),
        ),
        "training_roi": _Step(
            _ratio(
                "completions",
                "coalesce(net_benefit, 0)",
                "coalesce(benefit_cost, 0)",
                "benefit_cost_rows",
                scale=100,
                where="with_benefit > 0",
                segment="NULL",
            ),
            ("completions",),
        ),
    }
    return {f"kpi_{key}": step for key, step in kpis.items()}


KPI_KEYS: tuple[str, ...] = tuple(name.removeprefix("kpi_") for name in _kpis())
"""Every KPI this module computes: the 44 of the library."""


def handwritten_query(*, by: str | None = None, keys: Collection[str] | None = None, start: date | None = None) -> str:
    """The one SQL query :func:`handwritten_kpis` runs, for reading or running elsewhere."""
    if by not in {None, "segment"}:
        raise ValueError(f"the hand-written SQL is split by segment or not at all, not by {by}")
    allowed = SPLITTABLE_BY_SEGMENT if by == "segment" else frozenset(KPI_KEYS)
    chosen = [key for key in KPI_KEYS if key in allowed] if keys is None else list(dict.fromkeys(keys))
    refused = sorted(set(chosen) - allowed)
    if refused:
        reason = "cannot be split by segment" if by == "segment" else "are not KPIs of the library"
        raise ValueError(f"{', '.join(refused)} {reason}")
    if not chosen:
        raise ValueError("no KPIs to compute")
    since = None if start is None else _first_month_from(start)
    steps = _steps(by == "segment", since)
    needed = _in_order(steps, [f"kpi_{key}" for key in chosen])
    # An expression read more than once is computed once; DuckDB would otherwise inline it in every reader.
    readers = {name: sum(steps[other].reads.count(name) for other in needed) for name in needed}
    expressions = ",\n".join(
        f"{name} AS {'MATERIALIZED ' if readers[name] + (name.removeprefix('kpi_') in chosen) > 1 else ''}"
        f"({steps[name].sql}\n)"
        for name in needed
    )
    stacked = "\n    UNION ALL\n".join(
        f"    SELECT '{key}' AS kpi, period_start, segment, value, numerator, denominator, n, margin_of_error,"
        f" too_few_responses FROM kpi_{key}"
        for key in chosen
    )
    months = "" if since is None else f"\nWHERE period_start >= {_day(since)}"
    return f"""WITH
{expressions}
SELECT kpi, CAST(period_start AS DATE) AS period_start, CAST(segment AS VARCHAR) AS segment,
       CAST(value AS DOUBLE) AS value, CAST(numerator AS DOUBLE) AS numerator,
       CAST(denominator AS DOUBLE) AS denominator, CAST(n AS BIGINT) AS n,
       CAST(margin_of_error AS DOUBLE) AS margin_of_error, CAST(too_few_responses AS BOOLEAN) AS too_few_responses
FROM (
{stacked}
) kpis{months}
ORDER BY kpi, period_start, segment NULLS FIRST"""


def _first_month_from(day: date) -> date:
    """The first day of the first month that starts on or after ``day``."""
    if day.day == 1:
        return day
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _in_order(steps: Mapping[str, _Step], wanted: Iterable[str]) -> list[str]:
    """The wanted table expressions and those they read, directly or not, each after the ones it reads."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name not in ordered:
            for read in steps[name].reads:
                visit(read)
            ordered.append(name)

    for name in wanted:
        visit(name)
    return ordered


def handwritten_kpis(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str | None = None,
    keys: Collection[str] | None = None,
    start: date | None = None,
) -> pa.Table:
    """The KPIs ``keys`` for every month, from the canonical tables registered on ``con``, as compute gives them.

    ``by`` is None or ``"segment"``; without ``keys`` every KPI that can be computed so is. ``start`` keeps the
    months from it on (growth and year to date still read earlier months). The columns and types are those of
    :data:`fourfold.metrics.compile.RESULT_SCHEMA`, sorted by KPI, month and segment.
    """
    query = handwritten_query(by=by, keys=keys, start=start)
    return con.sql(query).to_arrow_table().cast(RESULT_SCHEMA.to_pyarrow())
