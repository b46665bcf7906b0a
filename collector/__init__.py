"""The kitlife collector: stores what agents send, scores devices, serves reports.

Needs the ``collector`` extra (FastAPI, SQLAlchemy, Alembic, uvicorn).
"""
