"""``ExtendResource``: the client settings as a Dagster resource.

Give the key as ``EnvVar("EXTEND_API_KEY")`` so that Dagster shows the variable's name, not
its value; the resource never logs it.
"""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from extend_frames.api import Client

__all__ = ["ExtendResource"]


class ExtendResource(ConfigurableResource):  # type: ignore[misc]  # Dagster is untyped for mypy here
    """Where and how to reach Extend: the API key, an optional base URL (a region, or the
    emulator) and the rate-limit plan of the key.

    >>> from dagster import EnvVar  # doctest: +SKIP
    >>> ExtendResource(api_key=EnvVar("EXTEND_API_KEY"), rate_limits="scale")  # doctest: +SKIP
    """

    api_key: str = Field(description="The Extend API key (use EnvVar('EXTEND_API_KEY')).")
    base_url: str | None = Field(default=None, description="Default: https://api.extend.ai")
    rate_limits: str | None = Field(
        default=None, description="The key's plan: 'payg', 'scale' or 'enterprise'."
    )

    def get_client(self) -> Client:
        """A new client (close it, or use it as a context manager)."""
        return Client(api_key=self.api_key, base_url=self.base_url, rate_limits=self.rate_limits)
