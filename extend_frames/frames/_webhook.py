"""The webhook endpoint of a ``wait="webhook"`` job, as an async context manager.

On entry: start the receiver, create an Extend webhook endpoint for the operation's batch
events, and give the receiver its signing secret; on exit (also on error or cancellation):
delete the endpoint and forget the secret. Between events the waiter polls slowly, so a lost
delivery delays a batch by at most one interval.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from extend_frames._operations import OPERATIONS, Operation
from extend_frames.api import Client
from extend_frames.frames._options import check_receiver
from extend_frames.jobs import Polling, Waiter, WebhookWaiter

__all__ = ["webhook_waiter"]


@asynccontextmanager
async def webhook_waiter(
    client: Client, receiver: Any, polling: Polling, operation: Operation
) -> AsyncIterator[Waiter]:
    """A waiter woken by ``receiver``'s deliveries, for as long as the block runs."""
    check_receiver(receiver)  # Options.check() refused it already; a direct caller too
    receiver.start()  # no-op when already running; .url needs a listening server
    endpoint = await client.create_webhook_endpoint(
        receiver.url, name="extend_frames job", events=OPERATIONS[operation].batch_events
    )
    secret = endpoint["signingSecret"]
    receiver.add_secret(secret)
    slow = max(polling.maximum, 5 * polling.initial)
    fallback = Polling(
        initial=slow, factor=1.0, maximum=slow, jitter=polling.jitter, timeout=polling.timeout
    )
    try:
        yield WebhookWaiter(receiver.hub, fallback)
    finally:
        await client.delete_webhook_endpoint(str(endpoint["id"]))
        receiver.remove_secret(secret)
