"""A local Extend-compatible emulator (see docs/ARCHITECTURE.md). Imports nothing from the client.

>>> from extend_frames.emulator import Emulator
>>> with Emulator() as emu:                     # doctest: +SKIP
...     print(emu.url, emu.api_key)
"""

from . import _requirements  # noqa: F401  (first: names the extra to install if it is missing)
from ._app import EmulatorApp, create_app
from ._config import (
    API_VERSION,
    EmulatorConfig,
    Faults,
    Fidelity,
    RateLimits,
    Speed,
    Storm,
    WebhookOptions,
)
from ._delivery import sign
from ._gate import ConnectionDroppedError
from ._server import Emulator

__all__ = [
    "API_VERSION",
    "ConnectionDroppedError",
    "Emulator",
    "EmulatorApp",
    "EmulatorConfig",
    "Faults",
    "Fidelity",
    "RateLimits",
    "Speed",
    "Storm",
    "WebhookOptions",
    "create_app",
    "sign",
]
