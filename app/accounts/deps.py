"""FastAPI dependencies, as Annotated aliases so routers stay declarative."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from app.models import User
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


_UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Not authenticated",
    headers={"WWW-Authenticate": "Bearer"},
)


async def get_current_user(context: ContextDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    if not token:
        raise _UNAUTHORIZED
    try:
        user_id = decode_access_token(
            token,
            secret=context.settings.resolved_jwt_secret(),
            algorithm=context.settings.jwt_algorithm,
        )
    except InvalidToken:
        raise _UNAUTHORIZED from None
    # Loaded on every request so that granting or revoking admin (even by SQL) takes effect at once.
    # A session of its own, closed at once: the pooled connection is not held for the whole request.
    async with context.session_factory() as session:
        user = await session.get(User, user_id)
    if user is None:
        raise _UNAUTHORIZED
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Admin rights required")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]
