import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api";
import { TaskListModel, UNDO_MS } from "@/lib/task-list";
import { begin, EMPTY_LIST, receive, settle, tempId, visibleTasks, withdraw } from "@/lib/task-list-state";
import type { Task, TaskInput, TaskList } from "@/lib/types";

const task = (id: number, title = `task ${id}`): Task => ({
  id,
  number: id,
  user_id: "u1",
  title,
  description: null,
  completed: false,
  priority: "medium",
  tags: [],
  due_at: null,
  recurrence: "none",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
});

describe("the list's overlay of pending changes", () => {
  it("keeps a pending delete hidden in every list fetched meanwhile", () => {
    let state = receive(EMPTY_LIST, [task(2), task(1)]);
    state = begin(state, { kind: "delete", key: -1, task: task(1) });
    // The chat added a task: the refetched list still has task 1 (its delete is not sent yet).
    state = receive(state, [task(3), task(2), task(1)]);
    expect(visibleTasks(state).map((t) => t.id)).toEqual([3, 2]);
    // Undo brings back the server's version of it.
    expect(visibleTasks(withdraw(state, -1)).map((t) => t.id)).toEqual([3, 2, 1]);
    // Sent and confirmed: gone from the snapshot too.
    expect(settle(state, -1, { deleted: 1 }).snapshot.map((t) => t.id)).toEqual([3, 2]);
  });

  it("rolls back only the refused change", () => {
    let state = receive(EMPTY_LIST, [task(1), task(2)]);
    state = begin(state, { kind: "update", key: -1, task: { ...task(1), completed: true } });
    state = begin(state, { kind: "update", key: -2, task: task(2, "renamed") });
    state = settle(state, -1, null);
    expect(visibleTasks(state).map((t) => [t.title, t.completed])).toEqual([
      ["task 1", false],
      ["renamed", false],
    ]);
  });

  it("replaces an added draft by the saved task in place", () => {
    const draft = task(tempId(), "new");
    let state = begin(receive(EMPTY_LIST, [task(1)]), { kind: "add", key: draft.id, task: draft });
    expect(visibleTasks(state).map((t) => t.id)).toEqual([draft.id, 1]);
    state = settle(state, draft.id, { saved: task(7, "new") });
    expect(visibleTasks(state).map((t) => t.id)).toEqual([7, 1]);
  });

  it("gives temporary ids that never collide with saved ones", () => {
    const a = tempId();
    const b = tempId();
    expect(a).toBeLessThan(0);
    expect(b).toBeLessThan(a);
  });
});

/** Deterministic pseudo-random numbers (mulberry32), so a failing interleaving can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The backend, scripted: every call is a request that first reaches the server (which applies
 * it then, in whatever order the test picks) and later answers, again in any order.
 */
class ScriptedServer {
  tasks: Task[] = [];
  private nextId = 1;
  inFlight: { arrive: () => void }[] = [];
  answered: { respond: () => void }[] = [];

  list(): Task[] {
    return [...this.tasks].sort((a, b) => b.id - a.id).map((t) => ({ ...t }));
  }

  create(title: string, recurrence: Task["recurrence"] = "none"): Task {
    const created = { ...task(this.nextId++, title), recurrence };
    this.tasks.push(created);
    return created;
  }

  private request<T>(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.inFlight.push({
        arrive: () => {
          let respond: () => void;
          try {
            const value = apply();
            respond = () => resolve(value);
          } catch (error) {
            respond = () => reject(error);
          }
          this.answered.push({ respond });
        },
      });
    });
  }

  private find(id: number): Task {
    const found = this.tasks.find((t) => t.id === id);
    if (!found) throw new ApiError("Not found — it may have been deleted.", 404);
    return found;
  }

  api = {
    listTasks: (_query: URLSearchParams) => this.request<TaskList>(() => ({ items: this.list(), total: this.tasks.length })),
    createTask: (input: TaskInput) => this.request(() => ({ ...this.create(input.title) })),
    updateTask: (id: number, input: TaskInput) => this.request(() => ({ ...Object.assign(this.find(id), { title: input.title }) })),
    toggleTask: (id: number) =>
      this.request(() => {
        const found = this.find(id);
        found.completed = !found.completed;
        // Completing a recurring task creates its next occurrence, as the backend does.
        if (found.completed && found.recurrence !== "none") this.create(found.title, found.recurrence);
        return { ...found };
      }),
    deleteTask: (id: number) =>
      this.request(() => {
        this.find(id);
        this.tasks = this.tasks.filter((t) => t.id !== id);
      }),
  };
}

const settleMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs one random interleaving of list actions, undo, chat actions, answers and timers. */
async function interleaving(seed: number, steps: number): Promise<{ server: ScriptedServer; model: TaskListModel; log: string[] }> {
  const rand = random(seed);
  const pick = <T,>(items: T[]): T | undefined => items[Math.floor(rand() * items.length)];
  const server = new ScriptedServer();
  for (const title of ["alpha", "beta", "gamma"]) server.create(title);
  server.create("water plants", "weekly");
  const timers: (() => void)[] = [];
  const model = new TaskListModel(server.api, () => undefined, (run, ms) => {
    expect(ms).toBe(UNDO_MS);
    const entry = () => run();
    timers.push(entry);
    return () => timers.splice(timers.indexOf(entry) >>> 0, timers.includes(entry) ? 1 : 0);
  });
  const log: string[] = [];
  void model.setQuery(new URLSearchParams());

  const saved = () => model.getView().tasks.filter((t) => t.id > 0); // the UI disables rows still saving
  const actions: [string, () => void][] = [
    ["add", () => void model.add({ title: `added ${log.length}` })],
    ["toggle", () => { const t = pick(saved()); if (t) void model.toggle(t); }],
    ["edit", () => { const t = pick(saved()); if (t) void model.save(t, { title: `${t.title}!` }); }],
    ["delete", () => { const t = pick(saved()); if (t) model.remove(t); }],
    ["undo", () => model.undoDelete()],
    ["undo window closes", () => timers.shift()?.()],
    ["chat adds", () => { server.create(`chat ${log.length}`, rand() < 0.5 ? "daily" : "none"); void model.refresh(); }],
    ["chat deletes", () => { const t = pick(server.tasks); if (t) server.tasks = server.tasks.filter((x) => x !== t); void model.refresh(); }],
    ["chat completes", () => { const t = pick(server.tasks); if (t) t.completed = true; void model.refresh(); }],
    ["request reaches the server", () => server.inFlight.splice(Math.floor(rand() * server.inFlight.length), 1)[0]?.arrive()],
    ["answer reaches the browser", () => server.answered.splice(Math.floor(rand() * server.answered.length), 1)[0]?.respond()],
  ];
  for (let i = 0; i < steps; i++) {
    const [name, run] = pick(actions)!;
    log.push(name);
    run();
    await settleMicrotasks();
  }
  // Then the user waits: every request arrives and answers (in any order), the undo window closes.
  for (let guard = 0; server.inFlight.length + server.answered.length + timers.length > 0; guard++) {
    expect(guard, "the list keeps fetching forever").toBeLessThan(1000);
    server.inFlight.splice(Math.floor(rand() * server.inFlight.length), 1)[0]?.arrive();
    if (rand() < 0.5) server.answered.splice(Math.floor(rand() * server.answered.length), 1)[0]?.respond();
    if (server.inFlight.length + server.answered.length === 0) timers.shift()?.();
    await settleMicrotasks();
  }
  return { server, model, log };
}

describe("TaskListModel over interleavings", () => {
  it("the reported sequence: delete, the chat adds a task within the undo window, the window closes", async () => {
    const server = new ScriptedServer();
    server.create("alpha");
    const timers: (() => void)[] = [];
    const model = new TaskListModel(server.api, () => undefined, (run) => (timers.push(run), () => undefined));
    const drain = async () => {
      while (server.inFlight.length + server.answered.length > 0) {
        server.inFlight.shift()?.arrive();
        server.answered.shift()?.respond();
        await settleMicrotasks();
      }
    };
    void model.setQuery(new URLSearchParams());
    await drain();
    model.remove(model.getView().tasks[0]!);
    expect(model.getView().tasks).toEqual([]);
    server.create("zeta");
    void model.refresh();
    await drain();
    expect(model.getView().tasks.map((t) => t.title)).toEqual(["zeta"]);
    timers.shift()!();
    await drain();
    expect(server.list().map((t) => t.title)).toEqual(["zeta"]);
    expect(model.getView().tasks).toEqual(server.list());
  });

  it("ends equal to the server's state, whatever the order (500 interleavings)", async () => {
    for (let seed = 1; seed <= 500; seed++) {
      const { server, model, log } = await interleaving(seed, 5 + (seed % 36));
      expect(model.getView().tasks, `seed ${seed}: ${log.join(", ")}`).toEqual(server.list());
      expect(model.getView().pendingDelete).toBeNull();
    }
  });
});
