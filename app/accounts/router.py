from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from app.accounts import users
from app.accounts.deps import ContextDep, CurrentUser
from app.accounts.schemas import Token, UserCreate, UserOut
from app.platform.fields import Text
from app.platform.proxies import TrustedProxies
from app.platform.responses import errors
from app.platform.security import create_access_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=errors(503))


class LoginForm(OAuth2PasswordRequestForm):
    """OAuth2's password form, each field Text: a NUL is a 422 before the username is looked up."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,  # "password" or nothing
        username: Annotated[Text, Form()],
        password: Annotated[Text, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[Text, Form()] = "",
        client_id: Annotated[Text | None, Form()] = None,
        client_secret: Annotated[Text | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


async def client_address(request: Request) -> str:
    """The client the rate limits count: the peer, or who a trusted proxy says (app.platform.proxies)."""
    proxies: TrustedProxies = request.app.state.trusted_proxies
    peer = request.client.host if request.client else None
    return await proxies.client(peer, request.headers.getlist("x-forwarded-for"))


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=errors(409, 429, e409="The username is taken"),
)
async def register(data: UserCreate, request: Request, context: ContextDep) -> UserOut:
    await request.app.state.rate_limits.hit_register(await client_address(request))
    user = await users.register(context, data)
    return UserOut.model_validate(user)


@router.post(
    "/token", response_model=Token, responses=errors(401, 429, e401="Incorrect username or password")
)
async def token(form: Annotated[LoginForm, Depends()], request: Request, context: ContextDep) -> Token:
    limits = request.app.state.rate_limits
    client = await client_address(request)
    # Before any lookup or hash: a spray of usernames from one client stops here.
    await limits.hit_login_attempt(client)
    await limits.check_login(form.username, client)
    user = await users.authenticate(context, form.username, form.password)
    if user is None:
        await limits.record_login_failure(form.username, client)
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    settings = context.settings
    access_token = create_access_token(
        user.id,
        secret=settings.resolved_jwt_secret(),
        algorithm=settings.jwt_algorithm,
        expire_minutes=settings.jwt_expire_minutes,
    )
    return Token(access_token=access_token)


@router.get("/me", response_model=UserOut, responses=errors(401))
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)
