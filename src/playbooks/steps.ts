/**
 * The items of a Markdown list, each in full: an item's continuation lines (indented under it)
 * are joined to it, so a step written over three lines is one step, not its first line. Links
 * become their text (a Slack message shows the runbook buttons instead); `**bold**` becomes
 * Slack's `*bold*`.
 */
export function listItems(markdown: string): string[] {
  const items: string[][] = [];
  let open = false;
  for (const line of markdown.split(/\r?\n/)) {
    const start = /^\s{0,3}(?:\d+[.)]|[-*+])\s+(.*)$/.exec(line);
    if (start) items.push([start[1]!.trim()]);
    else if (open && /^\s+\S/.test(line)) items[items.length - 1]!.push(line.trim());
    // A blank line or unindented text ends the item.
    open = start !== null || (open && /^\s+\S/.test(line));
  }
  return items.map((lines) =>
    lines
      .join(' ')
      .replace(/\[([^\]]+)\]\([^)]+\)/g, '$1')
      .replace(/\*\*/g, '*')
      .trim(),
  );
}
