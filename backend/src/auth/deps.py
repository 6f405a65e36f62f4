"""FastAPI dependencies: who is calling (from the verified token) and may they use this path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from src.auth.jwks import AuthenticatedUser, InvalidToken, JWKSVerifier

# auto_error=False: we answer a missing token ourselves, with 401 and a reason.
_bearer = HTTPBearer(auto_error=False, description="Better Auth JWT (GET /api/auth/token)")


def unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=reason,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def get_verifier(request: Request) -> JWKSVerifier:
    return request.app.state.verifier


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header (read as HTTPBearer reads it)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def authenticate(verifier: JWKSVerifier, token: str | None) -> AuthenticatedUser:
    if not token:
        raise unauthorized("missing bearer token")
    try:
        return await verifier.verify(token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None


async def get_current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    verifier: Annotated[JWKSVerifier, Depends(get_verifier)],
) -> AuthenticatedUser:
    # The request passed the same check at the door (src/api/gate.py): this is a cache hit.
    return await authenticate(verifier, credentials.credentials if credentials else None)


CurrentUser = Annotated[AuthenticatedUser, Depends(get_current_user)]


async def get_path_user(
    user_id: Annotated[str, Path(description="Must equal the token's subject")],
    current_user: CurrentUser,
) -> str:
    """The `{user_id}` of the path, accepted only when it is the caller's own id."""
    if user_id != current_user.id:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="user_id in the path does not match the signed-in user",
        )
    return user_id


UserId = Annotated[str, Depends(get_path_user)]
