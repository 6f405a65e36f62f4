"""Build-time warm-up of the backend image (Dockerfile, stage `bytecode`); not used at run time.

Starts the server once and uses it the way a signed-in user does: the token check, the task
list, a chat turn (the offline assistant calls an MCP tool) and a streamed one. Python writes
the bytecode of every module those paths import, including the ones the app loads only on the
first request (PyJWT, httpx, the Agents SDK), and the Dockerfile keeps exactly that bytecode.
It serves its own JWKS and signs its own token: no network, no secret. Needs DATABASE_URL set
to a migrated throwaway database; run it with PYTHONDONTWRITEBYTECODE=1 so that only the
server's imports, not this script's, get bytecode.

    usage: python docker-warm-up.py
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PORT = 8000
KEY = Ed25519PrivateKey.generate()
PUBLIC_JWK = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(KEY.public_key()))
JWKS = json.dumps({"keys": [PUBLIC_JWK | {"kid": "warm-up"}]}).encode()


class JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(JWKS)))
        self.end_headers()
        self.wfile.write(JWKS)

    def log_message(self, *args: object) -> None:
        pass


def call(method: str, path: str, token: str | None = None, body: object = None) -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"}
        | ({"authorization": f"Bearer {token}"} if token else {}),
    )
    # The first chat turn compiles the agent stack from source: seconds of CPU that a builder
    # sharing its cores with other work may take minutes to get.
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.read()


def main() -> None:
    jwks = ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    threading.Thread(target=jwks.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{jwks.server_address[1]}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    server = subprocess.Popen(
        ["uvicorn", "src.main:app", "--port", str(PORT)],
        env=env | {"BETTER_AUTH_URL": issuer, "OPENAI_API_KEY": ""},
    )
    try:
        for _ in range(300):
            try:
                call("GET", "/ready")
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("warm-up: the server exited before it was ready") from None
                time.sleep(0.2)
        else:
            raise SystemExit("warm-up: the server was not ready within 60 s")
        call("GET", "/health")
        user = "warm-up-user"
        now = int(time.time())
        token = jwt.encode(
            {"sub": user, "iss": issuer, "aud": issuer, "iat": now, "exp": now + 600},
            KEY,
            algorithm="EdDSA",
            headers={"kid": "warm-up"},
        )
        turn = {"message": "add buy milk tomorrow, high priority"}
        conversation = json.loads(call("POST", f"/api/{user}/chat", token, turn))["conversation_id"]
        call("POST", f"/api/{user}/chat/stream", token, {"message": "show my tasks"})
        call("GET", f"/api/{user}/tasks?sort=due", token)
        call("GET", f"/api/{user}/conversations/{conversation}/messages", token)
        call("GET", f"/api/{user}/assistant", token)
    finally:
        server.terminate()
        server.wait(timeout=30)
        jwks.shutdown()


if __name__ == "__main__":
    main()
