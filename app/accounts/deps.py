"""FastAPI dependencies, as Annotated aliases so routers stay declarative."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from app.models import User
from app.platform.config import Settings
from app.platform.security import InvalidToken, decode_access_token

if TYPE_CHECKING:
    from app.context import AppContext

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_context(request: Request) -> AppContext:
    # async on purpose: FastAPI runs a plain `def` dependency in the thread pool, a hop per request.
    context: AppContext = request.app.state.context
    return context


if TYPE_CHECKING:
    ContextDep = Annotated[AppContext, Depends(get_context)]
else:
    # FastAPI only calls get_context (it never validates what a dependency returns), so the
    # run-time alias needs no type: the routers then import the composition root for types only.
    ContextDep = Annotated[object, Depends(get_context)]


NOT_AUTHENTICATED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Not authenticated",
    headers={"WWW-Authenticate": "Bearer"},
)


def user_id_of(settings: Settings, token: str | None) -> uuid.UUID | None:
    """The user id a bearer token proves, or None (missing, malformed, forged, expired): the one
    place every route, fast path included, reads a token."""
    if not token:
        return None
    try:
        return decode_access_token(
            token, secret=settings.resolved_jwt_secret(), algorithm=settings.jwt_algorithm
        )
    except InvalidToken:
        return None


async def get_current_user(context: ContextDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    user_id = user_id_of(context.settings, token)
    if user_id is None:
        raise NOT_AUTHENTICATED
    # Loaded on every request so that granting or revoking admin (even by SQL) takes effect at once.
    # A session of its own, closed at once: the pooled connection is not held for the whole request.
    async with context.session_factory() as session:
        user = await session.get(User, user_id)
    if user is None:
        raise NOT_AUTHENTICATED
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Admin rights required")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]
