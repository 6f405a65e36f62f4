"""Bearer tokens are verified for real: signatures against the served JWKS, exp, iss, aud."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest

from src.auth.jwks import InvalidToken, JWKSVerifier, SigningKeysUnavailable
from tests.conftest import User
from tests.support.auth import IdentityProvider, SigningKey


async def get_tasks(client: httpx.AsyncClient, user_id: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await client.get(f"/api/{user_id}/tasks", headers=headers)


@pytest.mark.parametrize("alg", ["EdDSA", "RS256", "ES256"])
async def test_valid_token_is_accepted(
    client: httpx.AsyncClient, idp: IdentityProvider, alg: str
) -> None:
    key = next(k for k in idp.keys if k.alg == alg)
    response = await get_tasks(client, "alice", idp.token("alice", key=key))
    assert response.status_code == 200
    assert set(response.json()) == {"items", "total"}


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda idp: None, "missing bearer token"),
        (lambda idp: "not-a-jwt", "malformed token"),
        (lambda idp: idp.token("alice", expires_in=-60), "token expired"),
        (
            lambda idp: idp.token("alice", aud="https://elsewhere.example"),
            "token audience is not this service",
        ),
        (
            lambda idp: idp.token("alice", iss="https://evil.example"),
            "token issuer is not the configured auth server",
        ),
        # Same key id, different private key: a forgery.
        (
            lambda idp: idp.token("alice", key=SigningKey("EdDSA", kid=idp.keys[0].kid)),
            "token signature is invalid",
        ),
        (
            lambda idp: idp.token("alice", key=SigningKey("EdDSA")),
            "token is signed with an unknown key",
        ),
        (lambda idp: idp.token("alice", exp=None), "token has no 'exp' claim"),
        (
            lambda idp: jwt.encode(
                {"sub": "alice", "exp": time.time() + 60}, "s" * 32, algorithm="HS256"
            ),
            "unsupported token algorithm 'HS256'",
        ),
        (
            lambda idp: jwt.encode(
                {"sub": "alice", "exp": time.time() + 60}, None, algorithm="none"
            ),
            "unsupported token algorithm 'none'",
        ),
    ],
    ids=[
        "missing",
        "malformed",
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "wrong-key",
        "unknown-key",
        "no-expiry",
        "hs256",
        "alg-none",
    ],
)
async def test_bad_tokens_get_401_with_a_reason(
    client: httpx.AsyncClient,
    idp: IdentityProvider,
    make_token,
    reason: str,  # type: ignore[no-untyped-def]
) -> None:
    response = await get_tasks(client, "alice", make_token(idp))
    assert response.status_code == 401
    assert response.json() == {"detail": reason}
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_every_api_route_requires_a_token(client: httpx.AsyncClient, user: User) -> None:
    routes = [
        ("GET", "/tasks"), ("POST", "/tasks"), ("GET", "/tasks/1"), ("PUT", "/tasks/1"),
        ("DELETE", "/tasks/1"), ("PATCH", "/tasks/1/complete"), ("POST", "/chat"),
        ("POST", "/chat/stream"), ("GET", "/conversations"), ("GET", "/conversations/1/messages"),
        ("DELETE", "/conversations/1"), ("GET", "/assistant"),
    ]  # fmt: skip
    for method, path in routes:
        response = await client.request(method, user.url(path), json={"message": "x", "title": "x"})
        assert response.status_code == 401, (method, path)


async def test_verifier_refetches_once_for_a_new_key(idp: IdentityProvider) -> None:
    verifier = JWKSVerifier(
        jwks_url=f"{idp.url}/api/auth/jwks",
        issuer=idp.url,
        audience=idp.url,
        min_refetch_interval=0.5,
    )
    rotated = SigningKey("EdDSA")
    try:
        assert (await verifier.verify(idp.token("alice"))).id == "alice"
        fetched = idp.jwks_requests
        assert (await verifier.verify(idp.token("alice"))).id == "alice"
        assert idp.jwks_requests == fetched  # cached

        idp.keys.append(rotated)
        await asyncio.sleep(0.6)
        assert (await verifier.verify(idp.token("bob", key=rotated))).id == "bob"
        assert idp.jwks_requests == fetched + 1

        # Unknown key ids cannot make the verifier hammer the auth server.
        for _ in range(5):
            with pytest.raises(InvalidToken, match="unknown key"):
                await verifier.verify(idp.token("eve", key=SigningKey("EdDSA")))
        assert idp.jwks_requests <= fetched + 2
    finally:
        if rotated in idp.keys:
            idp.keys.remove(rotated)
        await verifier.aclose()


async def test_a_remembered_token_is_refused_once_it_expires(idp: IdentityProvider) -> None:
    verifier = JWKSVerifier(jwks_url=f"{idp.url}/api/auth/jwks", issuer=idp.url, audience=idp.url)
    # Expired 8–9 s ago: still inside the 10 s clock-skew leeway, for 1–2 s more.
    token = idp.token("alice", exp=int(time.time()) - 8)
    try:
        assert (await verifier.verify(token)).id == "alice"
        assert (await verifier.verify(token)).id == "alice"
        await asyncio.sleep(2.1)
        with pytest.raises(InvalidToken, match="token expired"):
            await verifier.verify(token)
    finally:
        await verifier.aclose()


async def test_a_withdrawn_key_takes_its_remembered_tokens_with_it(
    idp: IdentityProvider,
) -> None:
    rotated = SigningKey("EdDSA")
    idp.keys.append(rotated)
    verifier = JWKSVerifier(
        jwks_url=f"{idp.url}/api/auth/jwks",
        issuer=idp.url,
        audience=idp.url,
        min_refetch_interval=0.2,
    )
    try:
        old = idp.token("alice", key=rotated)
        assert (await verifier.verify(old)).id == "alice"
        idp.keys.remove(rotated)
        await asyncio.sleep(0.3)
        # A token with a key id the verifier has not seen makes it refetch the key set.
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(idp.token("eve", key=SigningKey("EdDSA")))
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(old)
    finally:
        if rotated in idp.keys:
            idp.keys.remove(rotated)
        await verifier.aclose()


async def test_unreachable_jwks_is_a_503(
    client: httpx.AsyncClient, database_url: str, idp: IdentityProvider
) -> None:
    from tests.conftest import make_settings, running_app

    settings = make_settings(database_url, idp, better_auth_url="http://127.0.0.1:9")
    async with running_app(settings) as (_, isolated):
        token = idp.token("alice", iss="http://127.0.0.1:9", aud="http://127.0.0.1:9")
        response = await get_tasks(isolated, "alice", token)
    assert response.status_code == 503
    assert (
        "cannot fetch signing keys from http://127.0.0.1:9/api/auth/jwks"
        in response.json()["detail"]
    )
    verifier = JWKSVerifier(jwks_url="http://127.0.0.1:9/x", issuer="i", audience="a")
    with pytest.raises(SigningKeysUnavailable):
        await verifier.verify(token)
    await verifier.aclose()


async def test_keys_are_refreshed_on_schedule_and_a_withdrawn_key_stops_its_tokens(
    database_url: str,
) -> None:
    """The auth server withdraws a key and nothing else happens: within the refresh interval
    the tokens it signed are refused, while tokens of the keys it still publishes keep working."""
    from tests.conftest import make_settings, running_app

    idp = IdentityProvider().start()
    withdrawn, kept = idp.keys[0], idp.keys[1]
    settings = make_settings(database_url, idp, jwks_refresh_seconds=0.5)
    try:
        async with running_app(settings) as (_, client):
            old = idp.token("alice", key=withdrawn)
            current = idp.token("bob", key=kept)
            assert (await get_tasks(client, "alice", old)).status_code == 200
            assert (await get_tasks(client, "bob", current)).status_code == 200

            idp.keys.remove(withdrawn)
            fetched = idp.jwks_requests
            # Two fetches: the first began after the removal, and the second (on the same
            # schedule) only once the first was read. A bound, so a verifier that never
            # refreshes fails here instead of hanging the suite.
            assert await asyncio.to_thread(idp.wait_for_jwks_requests, fetched + 2, 30)

            refused = await get_tasks(client, "alice", old)
            assert refused.status_code == 401
            assert refused.json() == {"detail": "token is signed with an unknown key"}
            assert (await get_tasks(client, "bob", current)).status_code == 200
            assert (await get_tasks(client, "bob", idp.token("bob", key=kept))).status_code == 200
    finally:
        idp.stop()
