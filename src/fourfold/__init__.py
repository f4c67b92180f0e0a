"""Fourfold: an open-source Balanced Scorecard platform."""
