from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import ContextDep, CurrentUser
from app.api.responses import errors
from app.core.security import create_access_token
from app.schemas.auth import Token, UserCreate, UserOut
from app.schemas.common import Text
from app.services import users

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


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=errors(409, 429, e409="The username is taken"),
)
async def register(data: UserCreate, request: Request, context: ContextDep) -> UserOut:
    await request.app.state.rate_limits.hit_register(client_address(request))
    user = await users.register(context, data)
    return UserOut.model_validate(user)


@router.post(
    "/token", response_model=Token, responses=errors(401, 429, e401="Incorrect username or password")
)
async def token(form: Annotated[LoginForm, Depends()], request: Request, context: ContextDep) -> Token:
    limits = request.app.state.rate_limits
    client = client_address(request)
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
