// Building DOM nodes from data without ever parsing a string as HTML: everything a posting
// holds is hostile, so text goes in as text nodes. The one exception, rendered Markdown, goes
// through markdown.ts.

/** What `h` accepts as a child: nodes, text, or nothing (skipped). */
export type Child = Node | string | number | bigint | null | undefined | false | Child[];

/** Attributes and listeners: `on…` keys take a listener, `class`/other keys a string. */
export type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** Creates an element with attributes and children; text children become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        element.addEventListener(key.slice(2).toLowerCase(), value);
      } else if (value === true) {
        element.setAttribute(key, "");
      } else {
        element.setAttribute(key, String(value));
      }
    }
  }
  append(element, children);
  return element;
}

/** Appends children (flattening arrays, skipping empty ones) to `parent`. */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `parent` with `children`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

/** Shows a short message at the bottom of the screen for a few seconds. */
export function toast(message: string, kind: "info" | "ok" | "error" = "info"): void {
  const host = document.getElementById("toasts");
  if (!host) return;
  const item = h("div", { class: `toast toast-${kind}` }, message);
  host.appendChild(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}
