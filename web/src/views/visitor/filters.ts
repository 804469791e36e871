// The list's search box, filters and ordering as a form. It reports every change; the view
// decides when to ask the API (typing is debounced, menus and checkboxes apply at once).

import type { Boards } from "../../boards";
import { h } from "../../dom";
import { defaultSort, parsePay, parseTags, SORTS, type JobSearch, type SortChoice, type StatusChoice } from "./search";

/** How a change arrived: typed text waits for a pause; anything else applies now. */
export type ChangeKind = "typing" | "now";

/** The filter form, filled from `initial`; `onChange` gets the whole search after each change.
 * With several boards it has a chain menu: every chain, or one of them. */
export function filterForm(initial: JobSearch, onChange: (search: JobSearch, kind: ChangeKind) => void, boards: Boards): HTMLFormElement {
  const q = h("input", { id: "f-q", name: "q", type: "search", value: initial.q, placeholder: "Title, company, skill…", autocomplete: "off" });
  const status = h(
    "select",
    { id: "f-status", name: "status" },
    (
      [
        ["open", "Open"],
        ["expired", "Expired"],
        ["closed", "Closed"],
        ["any", "Any status"],
      ] as const
    ).map(([value, label]) => h("option", { value, selected: value === initial.status }, label)),
  );
  const tags = h("input", { id: "f-tags", name: "tags", type: "text", value: initial.tags.join(", "), placeholder: "rust, solidity", autocomplete: "off", "aria-describedby": "f-tags-hint" });
  const location = h("input", { id: "f-location", name: "location", type: "text", value: initial.location, placeholder: "Berlin", autocomplete: "off" });
  const remote = h("input", { id: "f-remote", name: "remote", type: "checkbox", checked: initial.remote, "aria-describedby": "f-remote-hint" });
  const pay = h("input", { id: "f-pay", name: "pay", type: "text", inputmode: "numeric", value: initial.pay, placeholder: "e.g. 100000", autocomplete: "off", "aria-describedby": "f-pay-hint" });
  const payError = h("p", { id: "f-pay-error", class: "field-error", "aria-live": "polite" });
  const sort = h(
    "select",
    { id: "f-sort", name: "sort" },
    SORTS.map(([value, , label]) => h("option", { value, selected: value === initial.sort }, label)),
  );

  const chain = boards.several
    ? h(
        "select",
        { id: "f-chain", name: "chain" },
        h("option", { value: "" }, "All chains"),
        boards.all.map((board) => h("option", { value: board.chainId, selected: board.chainId === initial.chain }, board.name)),
      )
    : null;

  const read = (): JobSearch => ({
    q: q.value,
    status: status.value as StatusChoice,
    tags: parseTags(tags.value),
    location: location.value,
    remote: remote.checked,
    pay: parsePay(pay.value) ?? "",
    sort: sort.value as SortChoice,
    chain: chain?.value ?? "",
  });

  // "Best match" needs a search; without one the API's own default (newest) applies.
  let lastQ = initial.q.trim();
  const syncSort = () => {
    const relevance = sort.querySelector<HTMLOptionElement>('option[value="relevance"]');
    const searching = q.value.trim() !== "";
    if (relevance) relevance.disabled = !searching;
    if (searching !== (lastQ !== "") && sort.value === defaultSort(lastQ)) sort.value = defaultSort(q.value);
    lastQ = q.value.trim();
  };
  syncSort();

  const checkPay = () => {
    const bad = pay.value.trim() !== "" && parsePay(pay.value) === null;
    payError.textContent = bad ? "Enter a whole amount, like 100000." : "";
    pay.setAttribute("aria-invalid", String(bad));
  };

  const field = (id: string, label: string, control: HTMLElement, ...extra: Node[]) =>
    h("div", { class: "field" }, h("label", { for: id }, label), control, ...extra);

  const form = h(
    "form",
    { class: "filters card", role: "search", "aria-label": "Search jobs", "data-testid": "filters" },
    h(
      "div",
      { class: chain ? "search-row with-chain" : "search-row" },
      field("f-q", "Search jobs", q),
      chain && h("div", { class: "field field-chain" }, h("label", { for: "f-chain" }, "Chain"), chain),
      h("button", { type: "submit", class: "button primary" }, "Search"),
    ),
    h(
      "div",
      { class: "filter-grid" },
      field("f-status", "Status", status),
      field("f-tags", "Tags", tags, h("p", { id: "f-tags-hint", class: "visually-hidden" }, "Comma-separated; a job must have all of them.")),
      field("f-location", "Location", location),
      h(
        "div",
        { class: "field check" },
        h("div", { class: "check-row" }, remote, h("label", { for: "f-remote" }, "Remote jobs")),
        h("p", { id: "f-remote-hint", class: "visually-hidden" }, "With a location: jobs there or remote."),
      ),
      field("f-pay", "Pay at least", pay, h("p", { id: "f-pay-hint", class: "visually-hidden" }, "Jobs whose salary range starts at this amount or more."), payError),
      field("f-sort", "Sort by", sort),
    ),
    h("p", { class: "filter-actions" }, h("a", { href: "/", "data-testid": "clear-filters" }, "Clear filters")),
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    checkPay();
    onChange(read(), "now");
  });
  for (const input of [q, tags, location, pay]) {
    input.addEventListener("input", () => {
      if (input === q) syncSort();
      if (input === pay) checkPay();
      onChange(read(), "typing");
    });
  }
  for (const control of [status, remote, sort, chain]) control?.addEventListener("change", () => onChange(read(), "now"));
  return form;
}
