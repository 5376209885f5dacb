"""Dependencies shared by the routes: the caller, the container, and how to run a service.

Each FastAPI dependency costs tens of microseconds per request, so the routes take exactly
one: ``Caller`` (the authenticated actor and the container), except write routes whose
refusal must come before their body is validated (``allowed``, docs/decisions.md 24). The
bearer scheme is declared to OpenAPI in ``app.py`` rather than resolved through
``HTTPBearer`` on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar

from anyio import to_thread
from fastapi import Depends, Request

from refundflow.domain.actors import Actor
from refundflow.domain.errors import AuthenticationError, PermissionDeniedError
from refundflow.domain.lifecycle import Action
from refundflow.domain.permissions import Operation, may, roles_for
from refundflow.entrypoints.bootstrap import Container
from refundflow.services.auth import TokenAuthenticator
from refundflow.services.portal import PortalAuthenticator

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


async def caller_or_customer(request: Request) -> Caller:
    """An API token, or a customer's portal session sent as the bearer: for the routes the
    permission table opens to customers too (their own preferences and push subscriptions;
    the use case keeps a customer to their own). Never the portal cookie: these routes
    change things and a cookie would ride along on another site's form."""
    try:
        return await caller(request)
    except AuthenticationError:
        token = bearer_token(request)
        if token is None:
            raise
    portal: PortalAuthenticator = request.app.state.portal_authenticator
    actor = portal.authenticate(token)
    request.state.actor = actor
    return Caller(actor, request.app.state.container)


async def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


CallerDep = Annotated[Caller, Depends(caller)]
CallerOrCustomerDep = Annotated[Caller, Depends(caller_or_customer)]
ContainerDep = Annotated[Container, Depends(container)]


def _require(caller: Caller, what: Action | Operation) -> None:
    if not may(caller.actor.role, what):
        raise PermissionDeniedError(
            f"the {caller.actor.role.value} role cannot do this",
            details={"allowed_roles": [r.value for r in roles_for(what)]},
        )


def allowed(what: Action | Operation, *, customers: bool = False) -> Any:
    """``dependencies=[allowed(Operation.X)]``: refuse a role the permission table leaves out
    before the body is validated, so that a refused caller hears 403 and never a 422 that
    describes the input. The use case checks again: it is the chokepoint (the CLI, the
    console and the worker call it too); this only moves the answer earlier."""

    async def check(caller: CallerDep) -> None:
        _require(caller, what)

    async def check_with_customers(caller: CallerOrCustomerDep) -> None:
        _require(caller, what)

    return Depends(check_with_customers if customers else check)


async def run(box: Container, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (blocking) service call.

    On SQLite it runs on the event loop: statements take microseconds, writers are serialised
    by the database anyway, and a hop to a worker thread costs more than the work. On
    PostgreSQL it runs in the thread pool so that one process overlaps many round trips.
    """
    if box.is_sqlite:
        return fn(*args, **kwargs)
    return await to_thread.run_sync(partial(fn, *args, **kwargs))
