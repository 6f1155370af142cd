"""Registration and authentication."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from app.accounts.schemas import UserCreate
from app.models import User
from app.platform.errors import Conflict, NotFound
from app.platform.security import hash_password, verify_password

if TYPE_CHECKING:
    from app.context import AppContext


async def register(context: AppContext, data: UserCreate) -> User:
    # Argon2 is deliberately slow: hash off the event loop.
    hashed = await run_in_threadpool(hash_password, data.password)
    user = User(username=data.username, hashed_password=hashed, is_admin=False)
    async with context.session_factory() as session:
        taken = await session.scalar(
            select(User.id).where(func.lower(User.username) == data.username.lower())
        )
        if taken is not None:
            raise Conflict("Username already taken")
        session.add(user)
        try:
            await session.commit()
        except IntegrityError as exc:
            raise Conflict("Username already taken") from exc
    return user


async def authenticate(context: AppContext, username: str, password: str) -> User | None:
    """The user if the password matches; None otherwise, at the same cost whether or not they exist."""
    async with context.session_factory() as session:
        user = await session.scalar(select(User).where(User.username == username))
    hashed = user.hashed_password if user is not None else None
    ok = await run_in_threadpool(verify_password, password, hashed)
    return user if ok else None


async def set_admin(context: AppContext, username: str, is_admin: bool = True) -> None:
    async with context.session_factory() as session:
        result = await session.execute(
            update(User).where(User.username == username).values(is_admin=is_admin)
        )
        await session.commit()
    if getattr(result, "rowcount", 0) == 0:
        raise NotFound(f"No user named {username!r}")
