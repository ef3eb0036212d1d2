"""``import extend_frames.emulator`` without the emulator extra names the extra to install."""

from __future__ import annotations

import subprocess
import sys

# A fresh interpreter in which starlette cannot be imported, as on an install without the extra.
_BLOCKED = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name == "starlette" or name.startswith("starlette."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())
import extend_frames  # the core imports fine without the extra
try:
    import extend_frames.emulator
except ImportError as exc:
    print(f"{type(exc).__name__}|{exc.name}|{exc}")
else:
    print("imported")
"""


def test_missing_extra_raises_an_import_error_naming_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _BLOCKED], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    kind, name, message = done.stdout.strip().split("|", 2)
    assert (kind, name) == ("ImportError", "starlette")
    assert "pip install 'extend-frames[emulator]'" in message
