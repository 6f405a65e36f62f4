"""Chat turn latency with the offline assistant: C conversations at once, each a sequence of
turns that add, list and complete tasks, so every turn loads the conversation's history, runs
the agent loop, calls an MCP tool and stores the messages. Prints one line, `BENCH {json}`.

    python bench/chat.py --url http://127.0.0.1:PORT --users USERS.json --conversations 10 --turns 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx

# What a user types, in the offline assistant's phrasings; each one calls a tool.
TURNS = [
    "add buy milk tomorrow, high priority #home",
    "what's left?",
    "add water the plants",
    "show completed tasks",
]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def conversation(client: httpx.AsyncClient, user: dict, turns: int, warmup: int) -> list[float]:
    headers = {"Authorization": f"Bearer {user['token']}"}
    conversation_id = None
    latencies = []
    for n in range(warmup + turns):
        body = {"message": TURNS[n % len(TURNS)]}
        if conversation_id is not None:
            body["conversation_id"] = conversation_id
        start = time.perf_counter()
        response = await client.post(f"/api/{user['id']}/chat", json=body, headers=headers)
        elapsed = time.perf_counter() - start
        response.raise_for_status()
        payload = response.json()
        if not payload.get("tool_calls"):
            raise SystemExit(f"turn {body['message']!r} called no tool: {payload}")
        conversation_id = payload["conversation_id"]
        if n >= warmup:
            latencies.append(elapsed * 1000)
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--users", required=True)
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    with open(args.users) as f:
        users = json.load(f)["users"][: args.conversations]
    limits = httpx.Limits(max_connections=args.conversations)
    async with httpx.AsyncClient(base_url=args.url, timeout=60, limits=limits) as client:
        start = time.perf_counter()
        results = await asyncio.gather(
            *(conversation(client, user, args.turns, args.warmup) for user in users)
        )
        wall = time.perf_counter() - start
    samples = [ms for latencies in results for ms in latencies]
    print("BENCH " + json.dumps({
        "turns": len(samples),
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "mean_ms": statistics.fmean(samples),
        "turns_per_second": (len(samples) + args.warmup * len(users)) / wall,
    }))


if __name__ == "__main__":
    asyncio.run(main())
