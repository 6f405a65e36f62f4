/**
 * The part of Markdown the assistant's replies use: paragraphs and lists ("- ", "* ", "1. ").
 * Text stays text (React escapes it); nothing here produces HTML.
 */
export type Block = { kind: "paragraph"; text: string } | { kind: "list"; ordered: boolean; items: string[] };

const ITEM = /^\s*(?:([-*•])|(\d+)[.)])\s+(.*)$/;

export function markdownBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length) blocks.push({ kind: "paragraph", text: paragraph.join("\n") });
    paragraph = [];
  };
  for (const line of text.split("\n")) {
    const item = ITEM.exec(line);
    const last = blocks[blocks.length - 1];
    if (item) {
      endParagraph();
      const ordered = item[2] !== undefined;
      if (last?.kind === "list" && last.ordered === ordered && paragraph.length === 0) last.items.push(item[3]!);
      else blocks.push({ kind: "list", ordered, items: [item[3]!] });
    } else if (line.trim() === "") {
      endParagraph();
    } else if (last?.kind === "list" && paragraph.length === 0 && /^\s+\S/.test(line)) {
      // An indented line continues the item above it.
      last.items[last.items.length - 1] += ` ${line.trim()}`;
    } else {
      paragraph.push(line);
    }
  }
  endParagraph();
  return blocks;
}
