"""Shared fixtures. Tests reach only loopback; nothing here touches the internet."""

from __future__ import annotations
