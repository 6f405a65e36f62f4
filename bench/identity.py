"""The identity provider of a benchmark run: Ed25519 keys, a JWKS served over HTTP, real JWTs.

It reuses the backend tests' stand-in for Better Auth (tests/support/auth.py), so the backend
verifies the benchmark's tokens exactly as it verifies Better Auth's: fetched JWKS, EdDSA, issuer
and audience checked. Run with the backend's Python and `backend/` on PYTHONPATH:

    python bench/identity.py --users 100 --out USERS.json

It writes the users (id, token) to USERS.json, prints `ready <JWKS base URL>` and serves until
its standard input closes (the xtask holds it open for the length of the run).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from tests.support.auth import IdentityProvider

# Long enough for the slowest full run on a busy machine; Better Auth's are 15 min.
TOKEN_LIFETIME_SECONDS = 3 * 3600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--out", required=True, help="where to write [{id, token}]")
    args = parser.parse_args()

    idp = IdentityProvider().start()
    users = []
    for _ in range(args.users):
        # Better Auth's ids are 32 random alphanumerics; uuid hex has the same shape.
        user_id = uuid.uuid4().hex
        users.append({"id": user_id, "token": idp.token(user_id, expires_in=TOKEN_LIFETIME_SECONDS)})
    with open(args.out, "w") as out:
        json.dump({"jwks_base_url": idp.url, "users": users}, out)
    print(f"ready {idp.url}", flush=True)
    sys.stdin.read()  # returns when the xtask closes our stdin (or exits)
    idp.stop()


if __name__ == "__main__":
    main()
