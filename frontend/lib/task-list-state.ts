import type { Task } from "./types";

/**
 * Optimistic edits of the visible task list. Each change returns the new list plus an `undo`
 * that restores the previous version of just that task, so a failed request rolls back only
 * its own change even when others happened meanwhile.
 */
export interface Change {
  tasks: Task[];
  undo: (current: Task[]) => Task[];
}

export function insertTask(tasks: Task[], task: Task): Change {
  return {
    tasks: [task, ...tasks],
    undo: (current) => current.filter((t) => t.id !== task.id),
  };
}

export function replaceTask(tasks: Task[], id: number, next: Task): Change {
  const previous = tasks.find((t) => t.id === id);
  return {
    tasks: tasks.map((t) => (t.id === id ? next : t)),
    undo: (current) => (previous ? current.map((t) => (t.id === next.id || t.id === id ? previous : t)) : current),
  };
}

export function removeTask(tasks: Task[], id: number): Change {
  const index = tasks.findIndex((t) => t.id === id);
  const previous = tasks[index];
  return {
    tasks: tasks.filter((t) => t.id !== id),
    undo: (current) => {
      if (!previous || current.some((t) => t.id === id)) return current;
      const copy = [...current];
      copy.splice(Math.min(index, copy.length), 0, previous);
      return copy;
    },
  };
}

/** Temporary ids for tasks not yet saved are negative, so they never collide with real ones. */
let nextTempId = -1;
export function tempId(): number {
  return nextTempId--;
}
