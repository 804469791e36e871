// Saved searches: a name and a query string, kept in this browser's localStorage only.

import { h, replace } from "../../dom";

/** One saved search. */
export interface SavedSearch {
  name: string;
  /** The list's query string, without "?". */
  query: string;
}

const KEY = "jobboard.savedSearches";

/** The searches kept in `storage` (anything unreadable counts as none). */
export function loadSaved(storage: Pick<Storage, "getItem">): SavedSearch[] {
  try {
    const value: unknown = JSON.parse(storage.getItem(KEY) ?? "[]");
    if (!Array.isArray(value)) return [];
    return value.filter(
      (item): item is SavedSearch =>
        typeof item === "object" && item !== null && typeof item.name === "string" && typeof item.query === "string",
    );
  } catch {
    return [];
  }
}

/** Keeps `search`, replacing one of the same name, newest first. */
export function addSaved(list: SavedSearch[], search: SavedSearch): SavedSearch[] {
  return [search, ...list.filter((item) => item.name !== search.name)];
}

/** The list without the search called `name`. */
export function removeSaved(list: SavedSearch[], name: string): SavedSearch[] {
  return list.filter((item) => item.name !== name);
}

function store(list: SavedSearch[]): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    // Private mode or a full quota: the search just is not kept.
  }
}

/** The saved-searches panel: links to each, a delete button, and "save this search". */
export function savedSearches(currentQuery: () => string): HTMLElement {
  const list = h("ul", { class: "saved-list", "data-testid": "saved-list" });
  const summary = h("summary", null);
  const name = h("input", { id: "saved-name", type: "text", maxlength: 60, required: true, autocomplete: "off", placeholder: "Remote Rust jobs" });

  const draw = () => {
    const saved = loadSaved(localStorage);
    summary.textContent = `Saved searches (${saved.length})`;
    replace(
      list,
      saved.length === 0 && h("li", { class: "muted" }, "None yet: set filters, name them below, save."),
      saved.map((item) =>
        h(
          "li",
          null,
          h("a", { href: item.query ? `/?${item.query}` : "/" }, item.name),
          h(
            "button",
            {
              type: "button",
              class: "button small",
              "aria-label": `Delete saved search ${item.name}`,
              onclick: () => {
                store(removeSaved(loadSaved(localStorage), item.name));
                draw();
              },
            },
            "Delete",
          ),
        ),
      ),
    );
  };

  const form = h(
    "form",
    { class: "saved-form" },
    h("label", { for: "saved-name" }, "Name this search"),
    h("div", { class: "row" }, name, h("button", { type: "submit", class: "button" }, "Save")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const label = name.value.trim();
    if (!label) return;
    store(addSaved(loadSaved(localStorage), { name: label, query: currentQuery() }));
    name.value = "";
    draw();
  });

  draw();
  return h("details", { class: "saved card", "data-testid": "saved-searches" }, summary, list, form);
}
