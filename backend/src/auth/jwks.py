"""Verifies Better Auth JWTs against the JWKS the frontend publishes.

Keys are cached and the key set is fetched again every `refresh_interval` seconds, on a schedule
(`start_refresh_schedule`) and, should that not have run, by the next token verified; a token
signed with a key id we have not seen triggers one refetch (Better Auth rotates keys),
rate-limited so random key ids cannot make us hammer the auth server.

A browser sends the same token with every request until it expires (15 minutes for Better Auth),
so tokens that passed verification are remembered, until the moment their `exp` (with the
same leeway) would refuse them, or until their signing key leaves the key set: the signature
check is most of what authenticating a request costs. Tokens signed by keys still published stay
remembered across a refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

# PyJWT (with cryptography) and httpx are imported by the first token to verify: they are a
# tenth of the app's import time, and the probes a starting replica answers need neither.
if TYPE_CHECKING:
    import httpx
    import jwt

log = logging.getLogger(__name__)

# Better Auth signs with EdDSA (Ed25519) by default; RS256 and ES256 are its other key types.
ALLOWED_ALGORITHMS = ("EdDSA", "RS256", "ES256")
JWKS_REFRESH_SECONDS = 300.0
MIN_REFETCH_INTERVAL_SECONDS = 10.0
CLOCK_SKEW_SECONDS = 10
VERIFIED_TOKENS_MAX = 4096
# The user_id columns' length: a longer subject could own nothing.
SUBJECT_MAX = 255


class InvalidToken(Exception):
    """The caller's token is unacceptable; the message says why (safe to return to the caller)."""


class SigningKeysUnavailable(Exception):
    """The JWKS could not be fetched: our problem, not the caller's."""


@dataclass(frozen=True)
class AuthenticatedUser:
    id: str
    claims: dict[str, Any] = field(repr=False)
    # Kept to act as the user towards the app's own MCP server; never logged.
    token: str = field(repr=False)


class JWKSVerifier:
    def __init__(
        self,
        *,
        jwks_url: str,
        issuer: str,
        audience: str,
        http_client: httpx.AsyncClient | None = None,
        min_refetch_interval: float = MIN_REFETCH_INTERVAL_SECONDS,
        refresh_interval: float = JWKS_REFRESH_SECONDS,
    ) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self._http: httpx.AsyncClient | None = http_client
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._min_refetch_interval = min(min_refetch_interval, refresh_interval)
        self._refresh_interval = refresh_interval
        self._loaded_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()
        self._schedule: asyncio.Task[None] | None = None
        # token → (the time.time() at which it expires, its user, the key that signed it);
        # oldest first.
        self._verified: dict[str, tuple[float, AuthenticatedUser, jwt.PyJWK]] = {}

    def start_refresh_schedule(self) -> None:
        """Fetches the key set every `refresh_interval` seconds from now until `aclose`."""
        self._schedule = asyncio.create_task(self._refresh_on_schedule())

    async def aclose(self) -> None:
        if self._schedule is not None:
            self._schedule.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._schedule
        if self._http is not None:
            await self._http.aclose()

    async def _refresh_on_schedule(self) -> None:
        # Only once keys have been needed: a replica nobody calls never asks the auth server.
        while True:
            await asyncio.sleep(self._refresh_interval)
            if self._keys:
                await self._refresh()  # a failed fetch is logged and keeps the keys we have

    async def verify(self, token: str) -> AuthenticatedUser:
        if self._keys and time.monotonic() - self._loaded_at > 2 * self._refresh_interval:
            await self._refresh()  # the schedule is late (or not running): keys may be gone
        remembered = self._verified.get(token)
        if remembered is not None:
            if time.time() < remembered[0]:
                return remembered[1]
            del self._verified[token]
        user, key = await self._verify_signed(token)
        expires_at = float(user.claims["exp"]) + CLOCK_SKEW_SECONDS
        if time.time() < expires_at:
            if len(self._verified) >= VERIFIED_TOKENS_MAX:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = (expires_at, user, key)
        return user

    async def _verify_signed(self, token: str) -> tuple[AuthenticatedUser, jwt.PyJWK]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidToken(f"unsupported token algorithm {algorithm!r}")
        key = await self._key_for(header.get("kid"), algorithm)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("token audience is not this service") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("token issuer is not the configured auth server") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("token signature is invalid") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"token has no {exc.claim!r} claim") from None
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("token subject is empty")
        if len(subject) > SUBJECT_MAX or "\x00" in subject:
            raise InvalidToken(
                f"token subject is not a user id (at most {SUBJECT_MAX} characters, no NUL)"
            )
        return AuthenticatedUser(id=subject, claims=claims, token=token), key

    async def _key_for(self, kid: str | None, algorithm: str) -> jwt.PyJWK:
        if not self._keys:
            await self._refresh()
        key = self._match(kid, algorithm)
        if key is None and await self._refresh():
            key = self._match(kid, algorithm)
        if key is None:
            raise InvalidToken("token is signed with an unknown key")
        return key

    def _match(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        if kid is not None:
            key = self._keys.get(kid)
        else:
            # No key id: acceptable only when exactly one key can have signed it.
            candidates = [k for k in self._keys.values() if k.algorithm_name == algorithm]
            key = candidates[0] if len(candidates) == 1 else None
        if key is None or key.algorithm_name != algorithm:
            return None
        return key

    async def _refresh(self) -> bool:
        """Refetch the key set unless someone tried moments ago; returns whether keys changed."""
        import httpx

        attempted_before = self._attempted_at
        async with self._lock:
            if self._attempted_at != attempted_before:
                # A concurrent request refreshed while we waited: use its outcome.
                if not self._keys:
                    raise SigningKeysUnavailable(f"cannot fetch signing keys from {self.jwks_url}")
                return True
            if time.monotonic() - self._attempted_at < self._min_refetch_interval:
                if not self._keys:
                    raise SigningKeysUnavailable(f"cannot fetch signing keys from {self.jwks_url}")
                return False
            self._attempted_at = time.monotonic()
            if self._http is None:
                self._http = httpx.AsyncClient(timeout=5.0)
            try:
                response = await self._http.get(self.jwks_url)
                response.raise_for_status()
                keys = _parse_keys(response.json())
            except (httpx.HTTPError, ValueError) as exc:
                log.warning(
                    "JWKS fetch failed", extra={"jwks_url": self.jwks_url, "error": str(exc)}
                )
                if self._keys:
                    return False  # keep serving the keys we have
                raise SigningKeysUnavailable(
                    f"cannot fetch signing keys from {self.jwks_url}"
                ) from None
            self._keys = keys
            self._forget_tokens_of_withdrawn_keys()
            self._loaded_at = self._attempted_at
            log.info("JWKS loaded", extra={"jwks_url": self.jwks_url, "keys": len(keys)})
            return True

    def _forget_tokens_of_withdrawn_keys(self) -> None:
        """A key gone from the set (or published anew under its id) takes its tokens with it."""
        published = {_thumbprint(key) for key in self._keys.values()}
        for token, (_, _, key) in list(self._verified.items()):
            if _thumbprint(key) not in published:
                del self._verified[token]


def _thumbprint(key: jwt.PyJWK) -> bytes:
    """The public key itself, whatever its id."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _parse_keys(document: Any) -> dict[str | None, jwt.PyJWK]:
    import jwt

    keys: dict[str | None, jwt.PyJWK] = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue  # a key type we do not use must not hide the others
        if key.algorithm_name in ALLOWED_ALGORITHMS:
            keys[entry.get("kid")] = key
    return keys
