import type { Task } from "./types";

/**
 * The task list as the user sees it: the server's last answer (`snapshot`) with the user's
 * unfinished changes laid over it (`pending`). A list fetched while a change is in flight or
 * waiting for its undo window keeps showing that change, because the overlay is applied to
 * every snapshot, and a change that ends (saved, refused, undone) simply leaves the overlay.
 */
export interface ListState {
  snapshot: Task[];
  pending: PendingChange[];
}

export type PendingChange =
  | { kind: "add"; key: number; task: Task }
  | { kind: "update"; key: number; task: Task }
  | { kind: "delete"; key: number; task: Task };

/** What the server said about a change that ended: the saved task, the deleted id, or nothing. */
export type Outcome = { saved: Task } | { deleted: number } | null;

export const EMPTY_LIST: ListState = { snapshot: [], pending: [] };

export function visibleTasks(state: ListState): Task[] {
  let tasks = state.snapshot;
  for (const change of state.pending) {
    if (change.kind === "add") tasks = [change.task, ...tasks.filter((t) => t.id !== change.task.id)];
    else if (change.kind === "update") tasks = tasks.map((t) => (t.id === change.task.id ? change.task : t));
    else tasks = tasks.filter((t) => t.id !== change.task.id);
  }
  return tasks;
}

export function begin(state: ListState, change: PendingChange): ListState {
  return { ...state, pending: [...state.pending, change] };
}

/** A change the server has answered: it leaves the overlay and its result enters the snapshot. */
export function settle(state: ListState, key: number, outcome: Outcome): ListState {
  const change = state.pending.find((c) => c.key === key);
  const pending = state.pending.filter((c) => c.key !== key);
  let snapshot = state.snapshot;
  if (outcome && "saved" in outcome) {
    const { saved } = outcome;
    const replaced = change?.kind === "add" ? change.task.id : saved.id;
    snapshot = snapshot.some((t) => t.id === saved.id || t.id === replaced)
      ? snapshot.map((t) => (t.id === saved.id || t.id === replaced ? saved : t))
      : [saved, ...snapshot];
  } else if (outcome) {
    snapshot = snapshot.filter((t) => t.id !== outcome.deleted);
  }
  return { snapshot, pending };
}

/** A change withdrawn before it reached the server (an undone delete): nothing to reconcile. */
export function withdraw(state: ListState, key: number): ListState {
  return { ...state, pending: state.pending.filter((c) => c.key !== key) };
}

/** A list the server sent: the new snapshot, under the same overlay. */
export function receive(state: ListState, tasks: Task[]): ListState {
  return { ...state, snapshot: tasks };
}

/** Temporary ids for tasks not yet saved are negative, so they never collide with real ones. */
let nextTempId = -1;
export function tempId(): number {
  return nextTempId--;
}
