"""``ExtendHook``: an :class:`extend_frames.Client` from an Airflow connection.

The connection (default id ``extend_default``, type ``extend``) holds the API key as its
*password* (Airflow masks passwords in task logs) and, optionally, the base URL as its *host*
(``https://api.eu1.extend.ai``, or ``http://127.0.0.1:8765`` for the emulator) and a rate-limit
plan as the extra ``{"rate_limits": "payg" | "scale" | "enterprise"}``. The key is read here
only, never from the DAG file, never logged, and never part of a template field.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from extend_frames._errors import InputError
from extend_frames.api import Client

__all__ = ["ExtendHook", "client_from_connection"]


def _base_url(conn: Any) -> str | None:
    """The connection's host as a base URL: kept whole when it has a scheme, else https."""
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        return None
    if "://" not in host:
        host = f"https://{host}"
    port = conn.port
    if port and host.count(":") < 2:  # "http://h" has one colon; "http://h:1" already a port
        host = f"{host}:{port}"
    return host


def client_from_connection(conn: Any) -> Client:
    """An :class:`~extend_frames.Client` for an Airflow connection (password = the API key)."""
    if not conn.password:
        raise InputError(
            f"the Airflow connection {conn.conn_id!r} has no password: put the Extend API key "
            "there (Admin > Connections, or AIRFLOW_CONN_"
            f'{str(conn.conn_id).upper()}=\'{{"conn_type": "extend", "password": ...}}\')'
        )
    extra = conn.extra_dejson or {}
    return Client(
        api_key=conn.password, base_url=_base_url(conn), rate_limits=extra.get("rate_limits")
    )


class ExtendHook(BaseHook):  # type: ignore[misc]  # Airflow's classes are untyped for mypy
    """Reads the ``extend_conn_id`` connection and builds the client.

    >>> client = ExtendHook().get_conn()  # doctest: +SKIP
    """

    conn_name_attr = "extend_conn_id"
    default_conn_name = "extend_default"
    conn_type = "extend"
    hook_name = "Extend"

    def __init__(self, extend_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.extend_conn_id = extend_conn_id

    def get_conn(self) -> Client:
        """A new client (the caller closes it)."""
        return client_from_connection(self.get_connection(self.extend_conn_id))

    async def aget_conn(self) -> Client:
        """The same, from an event loop (a trigger): the connection is read without blocking it."""
        return client_from_connection(await self.aget_connection(self.extend_conn_id))

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form: only what the hook reads, with the words it uses."""
        return {
            "hidden_fields": ["schema", "login", "port"],
            "relabeling": {"password": "API key", "host": "Base URL (optional)"},
            "placeholders": {
                "host": "https://api.extend.ai",
                "extra": '{"rate_limits": "payg"}',
            },
        }

    def __repr__(self) -> str:
        return f"ExtendHook(extend_conn_id={self.extend_conn_id!r})"
