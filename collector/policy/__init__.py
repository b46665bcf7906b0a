"""Pure policy: scores, decisions, role fit, redeploy matching, footprint arithmetic.

Functions of their arguments and of the cited tables packaged in ``data/`` and
``scoring/data/``: no database, no HTTP, no clock read they are not given. The
store, the reports and the API call in; nothing here calls out (import-linter
checks it, see pyproject.toml).
"""
