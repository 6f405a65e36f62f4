import { afterEach, describe, expect, it, vi } from "vitest";

import { api, ApiError, errorFromBody } from "@/lib/api";

afterEach(() => vi.unstubAllGlobals());

describe("errorFromBody", () => {
  it("keeps FastAPI's string detail", () => {
    expect(errorFromBody(404, { detail: "Task 3 not found" }).message).toBe("Task 3 not found");
  });

  it("turns 422 validation errors into field messages", () => {
    const error = errorFromBody(422, {
      detail: [
        { loc: ["body", "title"], msg: "String should have at least 1 character" },
        { loc: ["body", "priority"], msg: "Input should be 'low', 'medium' or 'high'" },
      ],
    });
    expect(error.fields).toEqual({ title: "String should have at least 1 character", priority: "Input should be 'low', 'medium' or 'high'" });
    expect(error.message).toContain("title: String should have at least 1 character");
  });

  it("explains an expired session and unknown failures", () => {
    expect(errorFromBody(401, null).message).toMatch(/Sign in again/);
    expect(errorFromBody(500, "oops").message).toBe("Request failed (500).");
  });
});

describe("api client", () => {
  it("calls the same-origin proxy, never the backend directly, and sends JSON", async () => {
    const fetchMock = vi.fn(async () => Response.json({ id: 1, title: "x" }, { status: 201 }));
    vi.stubGlobal("fetch", fetchMock);
    await api.createTask({ title: "x", priority: "high" });
    expect(fetchMock).toHaveBeenCalledWith("/api/backend/tasks", expect.objectContaining({ method: "POST", body: '{"title":"x","priority":"high"}' }));
    const init = (fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect(init.headers).toMatchObject({ "content-type": "application/json" });
  });

  it("raises ApiError with the status on failure and on network errors", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Response.json({ detail: "Not allowed" }, { status: 403 })));
    await expect(api.toggleTask(1)).rejects.toMatchObject({ status: 403, message: "Not allowed" });
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(api.listConversations()).rejects.toBeInstanceOf(ApiError);
  });

  it("returns nothing for 204 No Content", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(null, { status: 204 })));
    await expect(api.deleteTask(1)).resolves.toBeUndefined();
  });
});
