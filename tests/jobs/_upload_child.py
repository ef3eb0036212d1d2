"""Child process for the upload-memory test: one job over one big local file; prints JSON
with the process's peak RSS (bytes), the sha256 the engine streamed, and the row's status."""

from __future__ import annotations

import json
import resource
import sys

import polars as pl

import extend_frames as xf


def main() -> None:
    url, key, path, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    client = xf.Client(api_key=key, base_url=url, timeout=xf.Timeouts(upload=600.0))
    out = xf.parse(
        pl.DataFrame({"file": [path]}),
        file_column="file",
        client=client,
        polling=xf.Polling.fast(),
        progress=False,
        max_file_bytes=limit,
    )
    row = out.row(0, named=True)
    print(
        json.dumps(
            {
                "peak_rss": _peak_rss(),
                "status": row["status"],
                "reason": row["failure_reason"],
                "file_id": row["file_id"],
            }
        )
    )


def _peak_rss() -> int:
    """This process's own peak RSS in bytes.

    On Linux, ``ru_maxrss`` survives ``execve``: a child forked from a large pytest worker
    reports the worker's peak, not its own. ``VmHWM`` belongs to the new address space.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB elsewhere


if __name__ == "__main__":
    main()
