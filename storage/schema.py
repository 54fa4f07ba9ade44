"""The whole schema: imports `storage.models` and every feature's `storage/*_models.py`, so Alembic and the
tests see all tables through one `Base.metadata`. Feature modules add themselves by their file name alone.
"""
from __future__ import annotations

import importlib
import pkgutil

import storage
from storage.models import Base

for _module in pkgutil.iter_modules(storage.__path__):
    if _module.name.endswith("_models"):
        importlib.import_module(f"storage.{_module.name}")

__all__ = ["Base"]
