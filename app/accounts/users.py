"""Registration and authentication.

Usernames are one account whatever their case: the database holds a unique index on
lower(username) (migration 0005), and every lookup goes through lower() so it uses that index.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from zxcvbn import zxcvbn

from app.accounts.schemas import UserCreate
from app.models import User
from app.platform.errors import Conflict, Invalid, NotFound
from app.platform.security import hash_password, verify_password

if TYPE_CHECKING:
    from app.context import AppContext

# zxcvbn's score: 0 and 1 mean fewer than 10^6 guesses (common passwords and their variants,
# keyboard rows, repeats, sequences, dates, the username); 2 and up are accepted.
MIN_PASSWORD_SCORE = 2
# zxcvbn refuses longer input (its matching cost grows fast with length).
ZXCVBN_MAX_LENGTH = 72
# zxcvbn keeps the user inputs of a call in a module-level dictionary: one call at a time.
_zxcvbn_lock = threading.Lock()


class WeakPassword(Exception):
    pass


def password_problem(password: str, username: str) -> str | None:
    """Why the password may not be used (a sentence for the person registering), or None."""
    if not password.strip():
        return "The password cannot be only spaces."
    if password.casefold() == username.casefold():
        return "The password cannot be your username."
    # A longer password is judged by its first and last 72 characters: a part that is hard to
    # guess makes the whole at least as hard.
    windows = {password[:ZXCVBN_MAX_LENGTH], password[-ZXCVBN_MAX_LENGTH:]}
    with _zxcvbn_lock:
        results = [zxcvbn(window, user_inputs=[username]) for window in windows]
    best = max(results, key=lambda result: int(result["score"]))
    if int(best["score"]) >= MIN_PASSWORD_SCORE:
        return None
    warning = str(best["feedback"]["warning"] or "This password is too easy to guess.")
    return f"{warning} Choose one that is harder to guess: not a common password, a name or a pattern."


def checked_password_hash(password: str, username: str) -> str:
    """The password's hash, if the password may be used; CPU-heavy, for PasswordWork's threads."""
    problem = password_problem(password, username)
    if problem is not None:
        raise WeakPassword(problem)
    return hash_password(password)


async def register(context: AppContext, data: UserCreate) -> User:
    # No look-up first: the unique index on lower(username) decides, and a taken name costs the
    # same hash as a free one (the answer's timing tells no more than its 409).
    try:
        hashed = await context.password_work.run(checked_password_hash, data.password, data.username)
    except WeakPassword as exc:
        raise Invalid([{"type": "password_too_weak", "loc": ["body", "password"], "msg": str(exc)}]) from None
    user = User(username=data.username, hashed_password=hashed, is_admin=False)
    async with context.session_factory() as session:
        session.add(user)
        try:
            await session.commit()
        except IntegrityError as exc:
            raise Conflict("Username already taken") from exc
    return user


async def authenticate(context: AppContext, username: str, password: str) -> User | None:
    """The user if the password matches; None otherwise, at the same cost whether or not they exist."""
    async with context.session_factory() as session:
        user = await session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    hashed = user.hashed_password if user is not None else None
    ok = await context.password_work.run(verify_password, password, hashed)
    return user if ok else None


async def set_admin(context: AppContext, username: str, is_admin: bool = True) -> None:
    async with context.session_factory() as session:
        result = await session.execute(
            update(User).where(func.lower(User.username) == username.lower()).values(is_admin=is_admin)
        )
        await session.commit()
    if getattr(result, "rowcount", 0) == 0:
        raise NotFound(f"No user named {username!r}")
