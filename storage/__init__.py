"""Persistence: the engine and session factory, models, migrations and one repository module per aggregate.

Repositories take an `AsyncSession` and never commit: the caller's unit of work does.
"""
