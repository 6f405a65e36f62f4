"""A real identity provider stand-in: Ed25519 keys, signed JWTs, and a JWKS served over HTTP.

The app under test fetches the JWKS from this server exactly as it fetches Better Auth's.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

_ALGORITHM_FOR = {"EdDSA": OKPAlgorithm, "RS256": RSAAlgorithm, "ES256": ECAlgorithm}


@dataclass
class SigningKey:
    alg: str = "EdDSA"
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    private: Any = None

    def __post_init__(self) -> None:
        if self.private is None:
            if self.alg == "EdDSA":
                self.private = ed25519.Ed25519PrivateKey.generate()
            elif self.alg == "RS256":
                self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            else:
                self.private = ec.generate_private_key(ec.SECP256R1())

    def public_jwk(self) -> dict[str, Any]:
        jwk = _ALGORITHM_FOR[self.alg].to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "alg": self.alg, "kid": self.kid}


class IdentityProvider:
    """Serves `/api/auth/jwks` like Better Auth and mints tokens like its JWT plugin."""

    def __init__(self) -> None:
        # Better Auth's default (EdDSA) first; its RS256 and ES256 key types are served too.
        self.keys: list[SigningKey] = [
            SigningKey("EdDSA"),
            SigningKey("RS256"),
            SigningKey("ES256"),
        ]
        self.jwks_requests = 0
        self._served = threading.Condition()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/api/auth/jwks":
                    self.send_error(404)
                    return
                with provider._served:
                    provider.jwks_requests += 1
                    provider._served.notify_all()
                body = json.dumps({"keys": [k.public_jwk() for k in provider.keys]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> IdentityProvider:
        self._thread.start()
        return self

    def wait_for_jwks_requests(self, count: int, timeout: float) -> bool:
        """Blocks until the JWKS has been asked for `count` times in all; False on timeout."""
        with self._served:
            return self._served.wait_for(lambda: self.jwks_requests >= count, timeout)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def token(
        self,
        sub: str,
        *,
        key: SigningKey | None = None,
        expires_in: int = 900,
        **claims: Any,
    ) -> str:
        key = key or self.keys[0]
        now = int(time.time())
        payload = {
            "sub": sub,
            "iat": now,
            "exp": now + expires_in,
            "iss": self.url,
            "aud": self.url,
            "email": f"{sub}@example.test",
            **claims,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key.private, algorithm=key.alg, headers={"kid": key.kid})
