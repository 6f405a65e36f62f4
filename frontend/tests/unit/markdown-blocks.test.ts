import { describe, expect, it } from "vitest";

import { markdownBlocks } from "@/lib/markdown-blocks";

describe("markdownBlocks", () => {
  it("turns the assistant's task lists into list items, without the dashes", () => {
    expect(markdownBlocks("You have 2 open tasks:\n- #1 Buy milk (due tomorrow)\n- #3 Pay rent\n\nAnything else?")).toEqual([
      { kind: "paragraph", text: "You have 2 open tasks:" },
      { kind: "list", ordered: false, items: ["#1 Buy milk (due tomorrow)", "#3 Pay rent"] },
      { kind: "paragraph", text: "Anything else?" },
    ]);
  });

  it("knows numbered lists, * bullets and wrapped items", () => {
    expect(markdownBlocks("1. first\n2) second\n   continued\n* star")).toEqual([
      { kind: "list", ordered: true, items: ["first", "second continued"] },
      { kind: "list", ordered: false, items: ["star"] },
    ]);
  });

  it("leaves plain text, a lone hyphen and hyphenated words alone", () => {
    expect(markdownBlocks("Done - all set.\nwell-known")).toEqual([{ kind: "paragraph", text: "Done - all set.\nwell-known" }]);
    expect(markdownBlocks("-5 degrees")).toEqual([{ kind: "paragraph", text: "-5 degrees" }]);
    expect(markdownBlocks("")).toEqual([]);
  });
});
