"""Raw business data for the three demo organisations: a calibrated data-set profile and size for each.

The demo organisations' data-driven KPIs are computed from data drawn by :func:`generate_dataset`, so the data of
each must tell its organisation's story: an online-learning company whose acquisition gets dearer while its
learners grow happier, a contact centre resolving more at the first call, a training academy delivering more
hours with better results. Each :class:`DemoDataset` holds a :class:`DatasetProfile` calibrated so that the
library KPIs computed over the 24 months of the demo window start and end near the organisation's own figures
(those its manual KPIs in :mod:`fourfold.demo.learning`, :mod:`fourfold.demo.care` and
:mod:`fourfold.demo.training` are drawn around), with the generator's seasonality and noise around the trend;
``fourfold/demo/tests/test_datasets.py`` checks that they do.

The sizes are kept small enough for a data set to be generated, loaded and computed in a few seconds, and large
enough that monthly survey KPIs are not swamped by noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fourfold.metrics.generate import (
    AcquisitionProfile,
    ActivityProfile,
    DatasetProfile,
    Drift,
    GeneratedDataset,
    SalesProfile,
    SegmentProfile,
    SocialProfile,
    StaffProfile,
    SupportProfile,
    TrainingProfile,
    generate_dataset,
)

WINDOW_MONTHS = 24
"""The months of the demo window, which the KPIs are computed over."""


@dataclass(frozen=True)
class DemoDataset:
    """The raw data of one demo organisation: what business it is (``profile``), at what size, from what seed.

    ``months`` are the months generated, ending with the last month of the demo window. More than the window's
    24 give its first months what came before them: a year for year-on-year growth, a few months for courses
    begun before the window and completed in it. The profile's drifts run over all the months generated, so a
    drift's start is the value at the first month generated, not at the window's.
    """

    profile: DatasetProfile
    customers: int
    orders: int
    seed: int
    months: int = WINDOW_MONTHS
    definitions: str = ""
    """The organisation's own KPI definitions (YAML), added to the library for the KPIs it lacks; "" for none."""

    def generate(self, directory: Path, *, end: date) -> GeneratedDataset:
        """Write the data set to ``directory``, its last month being that of ``end``."""
        return generate_dataset(
            directory,
            end=end,
            customers=self.customers,
            orders=self.orders,
            months=self.months,
            seed=self.seed,
            profile=self.profile,
        )


ALDERBROOK_DEFINITIONS = """
kpis:
  - key: training_hours_delivered
    name: Training hours delivered
    description: Hours of the courses completed in the period.
    perspective: learning
    unit: duration
    duration_unit: hours
    direction: higher
    aggregation: sum
    choice_points:
      - Hours count when the course is completed, not when it starts; courses never completed deliver none.
    type: simple
    measure:
      table: training_enrollments
      time: completed_date
      aggregate: sum
      value: hours
    segments: [department]

  - key: enrolments_completed
    name: Enrolments completed
    description: Course enrolments completed in the period.
    perspective: learning
    unit: count
    direction: higher
    aggregation: sum
    choice_points:
      - Every completed enrolment counts, so an employee completing two courses counts twice.
    type: simple
    measure:
      table: training_enrollments
      time: completed_date
      aggregate: count
    segments: [department]
"""
"""The two Alderbrook KPIs the library lacks (its hours delivered and courses completed), to load with it:
``load_definitions(*LIBRARY_FILES, ALDERBROOK_DEFINITIONS)``."""


BRIGHTPATH_DATASET = DemoDataset(
    profile=DatasetProfile(
        activity=ActivityProfile(
            monthly_growth=Drift(0.012, 0.012), season_amplitude=0.08, peak_month=8.5, history_days=5 * 365
        ),
        segments=SegmentProfile(
            names=("Adult learners", "Students", "Families", "Schools"),
            share=(0.45, 0.25, 0.18, 0.12),
            order_value=(2.7, 2.05, 3.2, 5.5),
            order_frequency=(1.0, 1.0, 1.1, 1.6),
            monthly_fee=(12.0, 8.0, 18.0, 140.0),
            monthly_churn=(0.17, 0.205, 0.14, 0.042),
            churn_trend=Drift(1.0, 0.7),
            lifetime_shape=0.6,
            signed_up_before=0.6,
            market_share=(0.04, 0.06, 0.03, 0.08),
            loyalty=(0.30, 0.35, 0.40, 0.10),
            promoters=(0.50, 0.48, 0.52, 0.55),
            detractors=(0.205, 0.225, 0.185, 0.165),
            promoters_shift=0.07,
            detractors_shift=-0.04,
            nps_answers_per_customer=1.2,
            plans=("Essentials", "Plus", "Campus"),
            plan_fee_factor=(1.0, 1.6, 3.0),
            plan_share_by_segment=((0.6, 0.4, 0.0), (0.7, 0.3, 0.0), (0.4, 0.6, 0.0), (0.0, 0.3, 0.7)),
            regions=("London & South East", "Midlands", "North", "Scotland & Wales", "International"),
            region_share=(0.32, 0.18, 0.22, 0.13, 0.15),
        ),
        sales=SalesProfile(
            margin_rate=Drift(0.92, 0.92),
            margin_range=(0.6, 0.98),
            order_propensity=6.0,
            product_kinds=("Course", "Learning path", "Certificate", "Live class"),
            product_kind_share=(0.5, 0.2, 0.15, 0.15),
        ),
        acquisition=AcquisitionProfile(
            channels=("App stores", "Paid search", "Social ads", "Referral", "School partnerships", "Education fairs"),
            share=(0.22, 0.25, 0.22, 0.15, 0.10, 0.06),
            cost=(7.0, 48.0, 42.0, 10.0, 60.0, 130.0),
            cost_trend=Drift(1.0, 1.25),
            lead_conversion=0.3,
        ),
        support=SupportProfile(
            tickets_per_customer=2.5,
            channels=("chat", "email", "web form", "phone"),
            channel_share=(0.45, 0.30, 0.15, 0.10),
            first_response_minutes=(2.0, 300.0, 360.0, 1.5),
            first_contact_resolution=(0.68, 0.58, 0.55, 0.72),
            first_contact_resolution_shift=0.095,
            surveyed_share=0.6,
            csat_after_first_contact=(0.01, 0.02, 0.04, 0.33, 0.60),
            csat_after_more_contacts=(0.04, 0.07, 0.15, 0.40, 0.34),
            satisfaction_lift=0.043,
        ),
        staff=StaffProfile(
            headcount=150,
            departments=(
                "Product & Content",
                "Course Production",
                "Learning Platform",
                "Learner Support",
                "Growth Marketing",
                "People & Operations",
            ),
            department_share=(0.15, 0.25, 0.20, 0.20, 0.10, 0.10),
            attrition=(0.12, 0.18, 0.14, 0.25, 0.20, 0.10),
        ),
        social=SocialProfile(
            platforms=("YouTube", "Instagram", "TikTok", "Facebook", "LinkedIn"),
            review_platforms=("App Store", "Google Play", "Trustpilot", "Google"),
            review_platform_share=(0.35, 0.30, 0.25, 0.10),
        ),
    ),
    customers=15_000,
    orders=150_000,
    seed=1_0101,
)
"""Brightpath Learning: subscriptions of adult learners, students, families and schools, in pounds. Learners buy
lessons and courses of a few pounds several times a month (digital content, at a margin of about 90 %), a little
more as the platform grows; they grow happier, support resolves more at the first contact, and subscribers stay
longer (most leave in their first months), while winning them gets dearer. At this revenue and churn the
library's quarterly CLV starts near £115, below the £150 of the manual KPI, and ends near £165."""


MERIDIAN_DATASET = DemoDataset(
    profile=DatasetProfile(
        activity=ActivityProfile(
            monthly_growth=Drift(0.0042, 0.0022),
            season_amplitude=0.08,
            peak_month=11.5,
            weekend=(0.9, 0.85),
            history_days=4 * 365,
        ),
        segments=SegmentProfile(
            names=("Mobile", "Broadband", "TV & streaming", "Home energy", "Small business"),
            share=(0.32, 0.26, 0.16, 0.14, 0.12),
            order_value=(54.0, 71.0, 44.0, 97.0, 163.0),
            order_frequency=(1.0, 1.0, 1.0, 1.0, 1.2),
            monthly_fee=(45.0, 55.0, 35.0, 80.0, 120.0),
            monthly_churn=(0.0195, 0.0162, 0.0216, 0.0141, 0.0108),
            churn_trend=Drift(1.17, 0.645),
            signed_up_before=0.72,
            market_share=(0.05, 0.04, 0.03, 0.02, 0.03),
            loyalty=(0.25, 0.30, 0.20, 0.15, 0.10),
            promoters=(0.32, 0.34, 0.31, 0.33, 0.38),
            detractors=(0.29, 0.29, 0.31, 0.28, 0.26),
            promoters_shift=0.11,
            detractors_shift=-0.08,
            nps_answers_per_customer=1.5,
        ),
        sales=SalesProfile(
            margin_rate=Drift(0.47, 0.30),
            order_propensity=20.0,
            product_kinds=("Plan", "Bundle", "Add-on", "Device"),
            product_kind_share=(0.4, 0.2, 0.3, 0.1),
        ),
        acquisition=AcquisitionProfile(
            channels=("Online", "Retail stores", "Telesales", "Comparison sites", "Partners", "Referral"),
            share=(0.30, 0.20, 0.15, 0.18, 0.10, 0.07),
            cost=(90.0, 220.0, 160.0, 140.0, 180.0, 40.0),
        ),
        support=SupportProfile(
            tickets_per_customer=3.0,
            channels=("phone", "chat", "email", "social"),
            channel_share=(0.50, 0.25, 0.18, 0.07),
            first_response_minutes=(1.5, 2.0, 180.0, 240.0),
            response_trend_by_kind=(Drift(1.0, 1.0), Drift(1.0, 1.0), Drift(49.5, 25.0)),
            first_contact_resolution=(0.653, 0.663, 0.583, 0.623),
            first_contact_resolution_shift=0.1,
            surveyed_share=0.6,
            csat_after_first_contact=(0.03, 0.04, 0.08, 0.40, 0.45),
            csat_after_more_contacts=(0.09, 0.12, 0.23, 0.31, 0.25),
            satisfaction_lift=0.07,
        ),
        staff=StaffProfile(
            headcount=400,
            departments=(
                "Frontline Contact Centre",
                "Billing Queue",
                "Complaints & Resolution",
                "Finance",
                "People & Training",
                "Operations",
            ),
            department_share=(0.50, 0.15, 0.10, 0.06, 0.05, 0.14),
            attrition=(0.35, 0.28, 0.20, 0.10, 0.12, 0.15),
        ),
        social=SocialProfile(review_platforms=("Trustpilot", "Google", "App Store", "Google Play")),
    ),
    customers=15_000,
    orders=150_000,
    seed=2_0202,
    months=WINDOW_MONTHS + 12,
)
"""Meridian Customer Care: the care of subscribers to mobile, broadband, TV, energy and business plans, in US
dollars. More is resolved at the first call and feedback is answered faster, so satisfaction, NPS and retention
rise and revenue growth picks up; the margin thins as serving them costs more. Three years are generated so
that year-on-year revenue growth has a value in every month of the demo window; the drifts start a year before
it, and are a half wider than the window's story."""


ALDERBROOK_DATASET = DemoDataset(
    profile=DatasetProfile(
        activity=ActivityProfile(monthly_growth=Drift(0.004, 0.004), season_amplitude=0.1, peak_month=4.0),
        segments=SegmentProfile(
            names=("Machine builders", "Distributors", "Construction", "Energy & utilities", "Public sector"),
            share=(0.30, 0.25, 0.20, 0.15, 0.10),
            order_value=(4200.0, 1800.0, 2600.0, 5200.0, 3100.0),
            order_frequency=(1.5, 2.5, 1.0, 1.0, 0.8),
            monthly_fee=(350.0, 120.0, 180.0, 420.0, 260.0),
            monthly_churn=(0.006, 0.012, 0.015, 0.005, 0.004),
            signed_up_before=0.6,
            market_share=(0.06, 0.04, 0.02, 0.03, 0.05),
            loyalty=(0.20, 0.35, 0.10, 0.15, 0.05),
            promoters=(0.42, 0.38, 0.33, 0.40, 0.36),
            detractors=(0.18, 0.20, 0.25, 0.19, 0.21),
            plans=("Parts", "Service contract", "Full maintenance"),
            regions=("DACH", "Benelux", "Nordics", "Southern Europe", "Rest of world"),
        ),
        sales=SalesProfile(
            margin_rate=Drift(0.28, 0.28),
            product_kinds=("Machines", "Spare parts", "Service", "Retrofit kits"),
            product_kind_share=(0.3, 0.35, 0.2, 0.15),
        ),
        acquisition=AcquisitionProfile(
            channels=("Direct sales", "Distributors", "Trade fairs", "Tenders", "Website", "Referral"),
            share=(0.35, 0.25, 0.12, 0.08, 0.12, 0.08),
            cost=(2200.0, 900.0, 3500.0, 1800.0, 400.0, 150.0),
        ),
        support=SupportProfile(
            channels=("phone", "email", "field service", "customer portal"),
            channel_share=(0.35, 0.35, 0.15, 0.15),
            first_response_minutes=(2.0, 240.0, 480.0, 300.0),
            first_contact_resolution=(0.70, 0.60, 0.55, 0.58),
        ),
        staff=StaffProfile(
            headcount=1_200,
            departments=("Production", "Maintenance", "Engineering", "Quality", "Logistics", "Sales & Administration"),
            department_share=(0.40, 0.14, 0.14, 0.08, 0.12, 0.12),
            attrition=(0.12, 0.08, 0.07, 0.08, 0.15, 0.10),
            hired_before=0.8,
        ),
        training=TrainingProfile(
            courses=40,
            course_hours=(8, 16, 24, 40, 56),
            course_length_trend=Drift(1.016, 0.87),
            enrolments_per_year=Drift(1.6, 2.41),
            completion=Drift(0.875, 0.92),
            days_to_complete=8.0,
            objectives_met=Drift(0.729, 0.83),
            cost_per_hour=62.0,
            benefit_multiple=Drift(2.13, 2.52),
        ),
        social=SocialProfile(
            platforms=("LinkedIn", "YouTube", "Facebook", "Instagram", "X"),
            platform_reach=(0.9, 0.5, 0.3, 0.2, 0.1),
            review_platforms=("Google", "Kununu", "Trustpilot", "Trade press"),
        ),
    ),
    customers=5_000,
    orders=40_000,
    seed=3_0303,
    months=WINDOW_MONTHS + 3,
    definitions=ALDERBROOK_DEFINITIONS,
)
"""Alderbrook Academy: the training of an industrial company's 1,200 staff, in euros (its customers, machine
builders to utilities, are the company's). Employees enrol in more courses, reworked into shorter modules,
meet their learning objectives more often, and the benefit attributed to training grows faster than its cost.
Three months before the window are generated, so that its first months complete courses begun before it."""
