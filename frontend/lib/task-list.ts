import { ApiError } from "./api";
import { begin, EMPTY_LIST, receive, settle, tempId, visibleTasks, withdraw, type ListState, type Outcome, type PendingChange } from "./task-list-state";
import type { Task, TaskInput, TaskList } from "./types";

/** The calls the list makes; `api` in the app, a scripted server in the tests. */
export interface TaskListApi {
  listTasks: (query: URLSearchParams) => Promise<TaskList>;
  createTask: (input: TaskInput) => Promise<Task>;
  updateTask: (id: number, input: TaskInput) => Promise<Task>;
  toggleTask: (id: number) => Promise<Task>;
  deleteTask: (id: number) => Promise<void>;
}

export type Load = { state: "loading" } | { state: "error"; message: string } | { state: "ready" };
export type Notice = { tone: "error" | "info"; text: string };

export interface TaskListView {
  tasks: Task[];
  /** The backend had more matches than one page. */
  truncated: boolean;
  load: Load;
  /** Shown at least once: later fetches refresh quietly. */
  loaded: boolean;
  /** The task whose delete waits out its undo window. */
  pendingDelete: Task | null;
}

export const UNDO_MS = 5000;

/**
 * The task list's behaviour, outside React: fetches, optimistic changes, delete with undo.
 * Whatever the order in which the user's changes, their answers, the chat's changes and list
 * fetches arrive, once everything has answered the list shows the server's state: each change
 * that the server answers is followed by a fetch, and only the newest fetch's answer is taken.
 */
export class TaskListModel {
  private state: ListState = EMPTY_LIST;
  private view: TaskListView = { tasks: [], truncated: false, load: { state: "loading" }, loaded: false, pendingDelete: null };
  private query = new URLSearchParams();
  private fetchSeq = 0;
  private undo: { key: number; task: Task; cancel: () => void } | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly api: TaskListApi,
    private readonly notify: (notice: Notice) => void,
    private readonly schedule: (run: () => void, ms: number) => () => void = (run, ms) => {
      const timer = setTimeout(run, ms);
      return () => clearTimeout(timer);
    },
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getView = (): TaskListView => this.view;

  /** New filters: fetch the list for them (showing the loading state until the first answer). */
  setQuery(query: URLSearchParams): Promise<void> {
    this.query = query;
    return this.refresh();
  }

  /** Fetch the list again (the chat changed tasks, a change reached the server, Retry). */
  async refresh(): Promise<void> {
    const seq = ++this.fetchSeq;
    if (!this.view.loaded) this.update({ load: { state: "loading" } });
    let list: TaskList;
    try {
      list = await this.api.listTasks(this.query);
    } catch (error) {
      if (seq === this.fetchSeq) this.update({ load: { state: "error", message: error instanceof Error ? error.message : String(error) } });
      return;
    }
    // A newer fetch is on its way: this answer may predate a change that has ended since.
    if (seq !== this.fetchSeq) return;
    this.state = receive(this.state, list.items);
    this.update({ truncated: list.total > list.items.length, load: { state: "ready" }, loaded: true });
  }

  add(input: TaskInput): Promise<void> {
    const now = new Date().toISOString();
    const draft: Task = {
      id: tempId(),
      number: 0,
      user_id: "",
      title: input.title,
      description: input.description ?? null,
      completed: false,
      priority: input.priority ?? "medium",
      tags: input.tags ?? [],
      due_at: input.due_at ?? null,
      recurrence: input.recurrence ?? "none",
      created_at: now,
      updated_at: now,
    };
    return this.change({ kind: "add", key: draft.id, task: draft }, () => this.api.createTask(input), `Couldn't add '${input.title}'`, (saved) =>
      this.notify({ tone: "info", text: `Added '${saved.title}'.` }),
    );
  }

  toggle(task: Task): Promise<void> {
    return this.change({ kind: "update", key: tempId(), task: { ...task, completed: !task.completed } }, () => this.api.toggleTask(task.id), `Couldn't update '${task.title}'`);
  }

  save(task: Task, input: TaskInput): Promise<void> {
    const edited = { ...task, ...input, description: input.description ?? null, due_at: input.due_at ?? null };
    return this.change({ kind: "update", key: tempId(), task: edited }, () => this.api.updateTask(task.id, input), `Couldn't save '${task.title}'`);
  }

  /** Hides the task at once; it is deleted for real when the undo window closes. */
  remove(task: Task): void {
    void this.commitDelete();
    const key = tempId();
    this.state = begin(this.state, { kind: "delete", key, task });
    this.undo = { key, task, cancel: this.schedule(() => void this.commitDelete(), UNDO_MS) };
    this.update({});
  }

  undoDelete(): void {
    if (!this.undo) return;
    this.undo.cancel();
    this.state = withdraw(this.state, this.undo.key);
    this.undo = null;
    this.update({});
  }

  /** Sends the delete waiting in the undo window now (another delete, or the window closed). */
  async commitDelete(): Promise<void> {
    const entry = this.undo;
    if (!entry) return;
    entry.cancel();
    this.undo = null;
    this.update({});
    let outcome: Outcome = { deleted: entry.task.id };
    try {
      await this.api.deleteTask(entry.task.id);
    } catch (error) {
      // Already gone (deleted in chat meanwhile) is what the user wanted.
      if (!(error instanceof ApiError && error.status === 404)) {
        outcome = null;
        this.notify({ tone: "error", text: `Couldn't delete '${entry.task.title}': ${reason(error)}` });
      }
    }
    this.state = settle(this.state, entry.key, outcome);
    this.update({});
    await this.refresh();
  }

  private async change(pending: PendingChange, send: () => Promise<Task>, failure: string, done?: (saved: Task) => void): Promise<void> {
    this.state = begin(this.state, pending);
    this.update({});
    let outcome: Outcome = null;
    try {
      const saved = await send();
      outcome = { saved };
      done?.(saved);
    } catch (error) {
      this.notify({ tone: "error", text: `${failure}: ${reason(error)}` });
    }
    this.state = settle(this.state, pending.key, outcome);
    this.update({});
    // The server's list decides: a recurring task's next occurrence, a filter the change left.
    await this.refresh();
  }

  private update(patch: Partial<TaskListView>): void {
    this.view = { ...this.view, ...patch, tasks: visibleTasks(this.state), pendingDelete: this.undo?.task ?? null };
    for (const listener of this.listeners) listener();
  }
}

function reason(error: unknown): string {
  return error instanceof ApiError ? error.message : "network error";
}
