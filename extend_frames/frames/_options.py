"""The options every operation shares, defined once.

The eight public operations (``parse``, ``extract``, ``classify``, ``split`` and their ``a*``
twins), ``collect`` and the ``df.xf`` namespace spell out only what is specific to them (the
frame, ``processor``, ``file_column``, ``text_column``, ``config``) and take everything else as
``**options: Unpack[JobOptions]``: IDEs and type checkers see each option with its type, and an
option is added in this file only.

Adding an option (also in docs/ARCHITECTURE.md): add the key, typed, to :class:`JobOptions`
(or to :class:`WaitOptions` if ``collect`` takes it too) and a field of the same name with its
default to :class:`Options`; validate its value in :meth:`Options.check`; read it as
``options.<name>`` where it is used. ``tests/test_public_api.py`` checks that the two classes
agree and that every operation accepts exactly these keys.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeAlias

from typing_extensions import TypedDict

from extend_frames._errors import InputError
from extend_frames._operations import MAX_BATCH_INPUTS
from extend_frames.api import Client
from extend_frames.jobs import ROUTES, Concurrency, Polling, Route

__all__ = ["JobOptions", "Mode", "Options", "Wait", "WaitOptions", "resolve"]

Wait: TypeAlias = Literal["poll", "webhook"]
Mode: TypeAlias = Literal["resume", "overwrite"]


class WaitOptions(TypedDict, total=False):
    """Options of every call that waits for batches (the operations and ``collect``)."""

    #: The :class:`~extend_frames.Client` to use (default: ``Client()`` from the environment).
    client: Client | None
    #: fsspec options for ``output`` (credentials, endpoint...), as polars names them.
    storage_options: Mapping[str, Any] | None
    #: ``"poll"`` (default) or ``"webhook"`` (needs ``webhook=``).
    wait: Wait
    #: A :class:`~extend_frames.WebhookReceiver` reachable by Extend, for ``wait="webhook"``.
    webhook: Any
    #: Show a progress bar (tqdm, when installed).
    progress: bool
    #: How often to poll a batch (:class:`~extend_frames.Polling`).
    polling: Polling | None
    #: How much runs at once (:class:`~extend_frames.Concurrency`).
    concurrency: Concurrency | None


class JobOptions(WaitOptions, total=False):
    """Options shared by ``parse``, ``extract``, ``classify`` and ``split`` (and twins)."""

    #: Persist the job there (any fsspec URL): resumable, readable with ``xf.read_results``.
    output: str | None
    #: Documents per batch, 1 to 1,000.
    batch_size: int
    #: Column(s) identifying a row; default: derived from the file reference.
    key: str | Sequence[str] | None
    #: ``"resume"`` (default: continue the job at ``output``) or ``"overwrite"``.
    mode: Mode
    #: Extend batch priority.
    priority: int | None
    #: Submit and return (rows PENDING); finish later with ``xf.collect(output)``.
    detach: bool
    #: ``"auto"`` (default: single runs for a few documents, batches otherwise), ``"batch"``
    #: or ``"single"`` (one ``POST /{operation}_runs`` per document, no batch queue).
    route: Route


@dataclass(frozen=True, slots=True)
class Options:
    """The options of one call, with their defaults filled in (what the stages read)."""

    client: Client | None = None
    storage_options: Mapping[str, Any] | None = None
    wait: Wait = "poll"
    webhook: Any = None
    progress: bool = True
    polling: Polling | None = None
    concurrency: Concurrency | None = None
    output: str | None = None
    batch_size: int = MAX_BATCH_INPUTS
    key: str | Sequence[str] | None = None
    mode: Mode = "resume"
    priority: int | None = None
    detach: bool = False
    route: Route = "auto"

    def check(self) -> Options:
        """Refuse values no stage can use, before anything is sent."""
        if self.wait not in ("poll", "webhook"):
            raise InputError(f'wait must be "poll" or "webhook", got {self.wait!r}')
        if self.mode not in ("resume", "overwrite"):
            raise InputError(f'mode must be "resume" or "overwrite", got {self.mode!r}')
        if self.detach and self.output is None:
            raise InputError("detach=True needs output= (the job is collected later from there)")
        if self.route not in ROUTES:
            raise InputError(f'route must be "auto", "batch" or "single", got {self.route!r}')
        return self

    @property
    def store_options(self) -> dict[str, Any]:
        """``storage_options`` as the store takes them (a plain dict)."""
        return dict(self.storage_options or {})


def keys_of(typed_dict: type) -> frozenset[str]:
    """The keys a TypedDict declares (its own and inherited)."""
    return frozenset(typed_dict.__required_keys__ | typed_dict.__optional_keys__)  # type: ignore[attr-defined]


OPTION_NAMES = frozenset(f.name for f in fields(Options))


def resolve(
    caller: str, options: Mapping[str, Any], accepted: type = JobOptions, **fixed: Any
) -> Options:
    """``Options`` from the keyword arguments of ``caller`` (``accepted`` lists the names it
    takes; unknown names are refused) plus ``fixed`` values the caller sets itself.

    >>> resolve("parse", {"batch_size": 10}).batch_size
    10
    """
    known = keys_of(accepted)
    unknown = sorted(set(options) - known)
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = (
            f"; did you mean {close[0]!r}?" if close else f"; it takes {', '.join(sorted(known))}"
        )
        raise InputError(f"{caller}() got an unexpected keyword argument {name!r}{hint}")
    return Options(**{**options, **fixed}).check()
