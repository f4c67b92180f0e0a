"""Scorecard files: a whole scorecard tree in one YAML document, checked and scored without a database.

A plain package on purpose (no Django): `fourfold score` must work on a laptop with nothing configured.
"""
