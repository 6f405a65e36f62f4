"""Seeds the benchmark database: N tasks spread over the users of `identity.py`, realistic mixes
of priority, tags, due dates and completion. Replaces whatever tasks were there, so every server
under test starts from the same data. Also writes the Lua table `wrk` reads (user, token, task ids).

    python bench/seed.py --database-url URL --users USERS.json --tasks 10000 --lua-out USERS.lua
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from datetime import UTC, datetime, timedelta

import asyncpg

PRIORITIES = ["low", "medium", "medium", "high"]
TAGS = ["home", "work", "errands", "health", "finance", "family", "reading", "garden"]
VERBS = ["Buy", "Call", "Email", "Fix", "Plan", "Review", "Pay", "Book", "Clean", "Write"]
THINGS = ["milk", "the dentist", "report", "rent", "flights", "garage", "taxes", "mom", "bike", "notes"]


def tasks_for(user_id: str, count: int, rng: random.Random, now: datetime) -> list[tuple]:
    rows = []
    for n in range(count):
        created = now - timedelta(days=rng.uniform(0, 90))
        due = None if rng.random() < 0.3 else now + timedelta(days=rng.uniform(-10, 60))
        description = None if rng.random() < 0.5 else f"Details for item {n}: " + "x" * rng.randint(0, 120)
        rows.append((
            user_id,
            n + 1,  # the user's task number
            f"{rng.choice(VERBS)} {rng.choice(THINGS)} #{n}",
            description,
            rng.random() < 0.3,  # completed
            rng.choice(PRIORITIES),
            json.dumps(rng.sample(TAGS, rng.randint(0, 3))),
            due,
            "none",
            created,
            created,
        ))
    return rows


async def seed(database_url: str, users: list[dict], total: int) -> dict[str, list[int]]:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("TRUNCATE task, task_counter RESTART IDENTITY CASCADE")
        rng = random.Random(9)  # the same data on every run
        now = datetime.now(UTC)
        per_user = total // len(users)
        records = [row for user in users for row in tasks_for(user["id"], per_user, rng, now)]
        await connection.copy_records_to_table(
            "task",
            records=records,
            columns=[
                "user_id", "number", "title", "description", "completed", "priority", "tags",
                "due_at", "recurrence", "created_at", "updated_at",
            ],
        )
        # Each user's next task gets the next number, as the app's own creates do.
        await connection.copy_records_to_table(
            "task_counter", records=[(user["id"], per_user) for user in users],
            columns=["user_id", "last_number"],
        )
        await connection.execute("VACUUM ANALYZE task")
        ids: dict[str, list[int]] = {user["id"]: [] for user in users}
        for row in await connection.fetch("SELECT id, user_id FROM task ORDER BY id"):
            ids[row["user_id"]].append(row["id"])
        return ids
    finally:
        await connection.close()


def lua_table(users: list[dict], ids: dict[str, list[int]]) -> str:
    lines = ["return {"]
    for user in users:
        task_ids = ",".join(str(i) for i in ids[user["id"]])
        lines.append(f'  {{id="{user["id"]}", token="{user["token"]}", tasks={{{task_ids}}}}},')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--users", required=True, help="identity.py's output")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--lua-out", required=True)
    args = parser.parse_args()
    with open(args.users) as f:
        users = json.load(f)["users"]
    ids = asyncio.run(seed(args.database_url, users, args.tasks))
    with open(args.lua_out, "w") as out:
        out.write(lua_table(users, ids))
    print(f"seeded {sum(map(len, ids.values()))} tasks for {len(users)} users")


if __name__ == "__main__":
    main()
