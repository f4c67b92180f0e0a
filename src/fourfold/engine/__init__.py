"""Pure scoring engine: periods, scoring, thresholds, aggregation, roll-ups, formulas, explanations.

Nothing in this package imports Django (a test enforces it): the engine is called by the Django apps and by
the offline ``fourfold score`` command alike, and must be testable on its own.
"""
