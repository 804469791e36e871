// A list of job cards that grows by "Show more" (keyset cursors, never an offset), shared by
// the board's front page and an employer's page. It changes only when the reader acts.

import type { Boards } from "../../boards";
import { h, replace } from "../../dom";
import { jobCard, type JobCardData } from "./card";

/** One page of a job connection. */
export interface JobPage {
  nodes: JobCardData[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Fetches the page after `after` of the list as it is currently filtered. */
export type FetchPage = (after: string, signal: AbortSignal) => Promise<JobPage>;

/** A list on the page and the handles its view drives it with. */
export interface JobList {
  element: HTMLElement;
  /** Replaces the cards with a first page (a new search, or the reader asked for new jobs). */
  show(page: JobPage): void;
  /** Shows a failure in place of the cards, with a way to try again. */
  fail(message: string, retry: () => void): void;
  /** Marks the cards as being replaced. */
  busy(on: boolean): void;
  /** Whether the job `id` of chain `chainId` is among the cards. */
  has(chainId: string, id: string): boolean;
}

/** What tells two cards apart: a job id repeats on every chain. */
const key = (chainId: string, id: string) => `${chainId}/${id}`;

/** A job list over `boards`; `empty` says what to do when a first page has no jobs. */
export function jobList(fetchPage: FetchPage, empty: () => Node, signal: AbortSignal, boards: Boards): JobList {
  const cards = h("ol", { class: "job-list", "data-testid": "job-list" });
  const more = h("button", { type: "button", class: "button show-more", "data-testid": "show-more" }, "Show more jobs");
  const moreError = h("p", { class: "field-error", role: "alert" });
  const footer = h("div", { class: "list-footer" }, more, moreError);
  const element = h("div", { class: "job-list-wrap" }, cards, footer);
  const ids = new Set<string>();
  let cursor: string | null = null;
  // A newer first page makes an older "Show more" answer stale.
  let generation = 0;

  const add = (page: JobPage) => {
    const now = Date.now();
    for (const job of page.nodes) {
      if (ids.has(key(job.chainId, job.id))) continue;
      ids.add(key(job.chainId, job.id));
      cards.append(h("li", null, jobCard(job, boards, now)));
    }
    cursor = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    footer.hidden = cursor === null;
  };

  const busy = (on: boolean) => {
    element.setAttribute("aria-busy", String(on));
    element.classList.toggle("is-busy", on);
  };

  more.addEventListener("click", async () => {
    if (cursor === null) return;
    const mine = generation;
    more.disabled = true;
    more.textContent = "Loading…";
    moreError.textContent = "";
    try {
      const page = await fetchPage(cursor, signal);
      if (mine === generation) add(page);
    } catch (error) {
      if (!signal.aborted) moreError.textContent = `More jobs could not be loaded: ${message(error)}. Try again.`;
    } finally {
      more.disabled = false;
      more.textContent = "Show more jobs";
    }
  });

  return {
    element,
    show(page) {
      generation += 1;
      ids.clear();
      replace(cards);
      moreError.textContent = "";
      add(page);
      if (page.nodes.length === 0) cards.append(h("li", { class: "empty", "data-testid": "empty" }, empty()));
      busy(false);
    },
    fail(text, retry) {
      generation += 1;
      ids.clear();
      replace(
        cards,
        h(
          "li",
          { class: "error-box", role: "alert", "data-testid": "list-error" },
          h("p", null, `Jobs could not be loaded: ${text}.`),
          h("p", null, "Check your connection, then ", h("button", { type: "button", class: "button", onclick: retry }, "Try again")),
        ),
      );
      footer.hidden = true;
      busy(false);
    },
    busy,
    has: (chainId, id) => ids.has(key(chainId, id)),
  };
}

/** An error's message for a sentence. */
export function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
}
