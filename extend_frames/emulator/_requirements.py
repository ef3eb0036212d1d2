"""Fail early, and say what to install, when the ``emulator`` extra is missing.

Imported first by ``extend_frames.emulator``: without this, a missing server or document
library would surface as a bare ``ModuleNotFoundError`` from deep inside the emulator.
"""

from __future__ import annotations

import importlib

_EXTRA = ("starlette", "uvicorn", "pypdf", "fpdf")
INSTALL_HINT = "pip install 'extend-frames[emulator]'"

for _module in _EXTRA:
    try:
        importlib.import_module(_module)
    except ImportError as exc:
        raise ImportError(
            f"extend_frames.emulator needs the 'emulator' extra ({_module} is missing): "
            f"{INSTALL_HINT}",
            name=exc.name,
        ) from exc
