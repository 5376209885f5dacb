"""Dependencies shared by the routes: the caller, the container, and how to run a service.

Each FastAPI dependency costs tens of microseconds per request, so the routes take exactly
one: ``Caller`` (the authenticated actor and the container). The bearer scheme is declared
to OpenAPI in ``app.py`` rather than resolved through ``HTTPBearer`` on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar

from anyio import to_thread
from fastapi import Depends, Request

from refundflow.domain.actors import Actor
from refundflow.domain.errors import AuthenticationError
from refundflow.entrypoints.bootstrap import Container
from refundflow.services.auth import TokenAuthenticator

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Caller:
    actor: Actor
    box: Container


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send your API token as 'Authorization: Bearer <token>'")
    return token.strip()


async def caller(request: Request) -> Caller:
    state = request.app.state
    authenticator: TokenAuthenticator = state.authenticator
    actor = authenticator.authenticate(bearer_token(request))
    request.state.actor = actor  # for the audit of refusals
    return Caller(actor, state.container)


async def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


CallerDep = Annotated[Caller, Depends(caller)]
ContainerDep = Annotated[Container, Depends(container)]


async def run(box: Container, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (blocking) service call.

    On SQLite it runs on the event loop: statements take microseconds, writers are serialised
    by the database anyway, and a hop to a worker thread costs more than the work. On
    PostgreSQL it runs in the thread pool so that one process overlaps many round trips.
    """
    if box.is_sqlite:
        return fn(*args, **kwargs)
    return await to_thread.run_sync(partial(fn, *args, **kwargs))
