"""Demo data: three invented organisations with two years of history, loaded by ``fourfold demo``.

The package is data plus one generic builder, not a Django app: it owns no models and writes only through
the services, so the demo is validated, permission-checked and audited exactly like data typed in by hand.
"""
