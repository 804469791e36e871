// The front page: open jobs, newest first, with search, filters and orderings kept in the URL,
// "Show more" paging, saved searches and a live "new jobs" banner.

import { servedBoards } from "../boards";
import { h } from "../dom";
import { gql } from "../graphql";
import { replaceQuery, type View } from "../router";
import { JOB_CARD_FRAGMENT } from "./visitor/card";
import { filterForm } from "./visitor/filters";
import { jobList, message, type JobPage } from "./visitor/list";
import { newJobsBanner } from "./visitor/live";
import { savedSearches } from "./visitor/saved";
import { combine, readSearch, searchVariables, writeSearch, type JobFilter, type JobSearchVariables } from "./visitor/search";

const PAGE_SIZE = 20;
const TYPING_PAUSE_MS = 300;

const JOBS = `query Jobs($chainId: BigInt, $where: JobFilter, $search: String, $orderBy: JobOrderBy, $first: Int!, $after: String, $count: Boolean!) {
  jobs(chainId: $chainId, where: $where, search: $search, orderBy: $orderBy, first: $first, after: $after) {
    totalCount @include(if: $count)
    nodes { ...JobCard }
    pageInfo { hasNextPage endCursor }
  }
}
${JOB_CARD_FRAGMENT}`;

const MATCHES = `query NewJobMatches($chainId: BigInt, $where: JobFilter, $search: String) {
  jobs(chainId: $chainId, where: $where, search: $search, first: 1) { nodes { id } }
}`;

interface JobsAnswer {
  jobs: JobPage & { totalCount?: number };
}

/** One page of the list as `vars` filter it. */
function fetchPage(vars: JobSearchVariables, after: string | null, withCount: boolean, signal: AbortSignal): Promise<JobsAnswer["jobs"]> {
  return gql<JobsAnswer>(JOBS, { ...vars, first: PAGE_SIZE, after, count: withCount }, { signal }).then((data) => data.jobs);
}

/** "12 jobs", "1 job", "No jobs". */
function countLabel(count: number): string {
  return count === 0 ? "No jobs" : `${count.toLocaleString("en-US")} job${count === 1 ? "" : "s"}`;
}

/** The board's job list at `/`: with several boards, every chain's jobs merged (the API's
 * order: time or the ordering's value, then chain id) unless the reader picks one chain. */
export const jobsView: View = async ({ query, signal }) => {
  // Without a `chain` in the URL the first page needs nothing from the boards, so it is asked
  // at the same time as them (the cards need them for badges and links before they show).
  const early = query.get("chain") === null ? fetchPage(searchVariables(readSearch(query)), null, true, signal) : null;
  early?.catch(() => {});
  const boards = await servedBoards();
  let search = readSearch(query, boards.several ? boards.all.map((board) => board.chainId) : []);
  let variables: JobSearchVariables = searchVariables(search);
  // Each new first page aborts the request of the one before.
  let pending: AbortController | null = null;

  const count = h("p", { class: "result-count", "aria-live": "polite", "data-testid": "result-count" });
  const list = jobList(
    (after, pageSignal) => fetchPage(variables, after, false, pageSignal),
    () =>
      h(
        "div",
        null,
        h("p", null, "No jobs match this search."),
        h("p", null, "Try fewer filters or other words, or ", h("a", { href: "/" }, "see all open jobs"), "."),
      ),
    signal,
    boards,
  );

  const showFirst = (page: JobsAnswer["jobs"]) => {
    count.textContent = page.totalCount === undefined ? "" : countLabel(page.totalCount);
    list.show(page);
  };

  const reload = async () => {
    pending?.abort();
    const controller = new AbortController();
    pending = controller;
    const abort = () => controller.abort();
    signal.addEventListener("abort", abort, { once: true });
    list.busy(true);
    try {
      showFirst(await fetchPage(variables, null, true, controller.signal));
      banner.reset();
    } catch (error) {
      if (!controller.signal.aborted) {
        count.textContent = "";
        list.fail(message(error), () => void reload());
      }
    } finally {
      signal.removeEventListener("abort", abort);
    }
  };

  const banner = newJobsBanner({
    signal,
    reload: () => void reload(),
    relevant: async (chainId, jobId) => {
      if (list.has(chainId, jobId) || (variables.chainId !== null && variables.chainId !== chainId)) return false;
      const idFilter: JobFilter = { id_in: [jobId] };
      const where = combine(variables.where ? [variables.where, idFilter] : [idFilter]);
      const data = await gql<{ jobs: { nodes: { id: string }[] } }>(MATCHES, { chainId, where, search: variables.search }, { signal });
      return data.jobs.nodes.length > 0;
    },
  });

  let typing: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener("abort", () => clearTimeout(typing), { once: true });
  const apply = (next: typeof search) => {
    const before = writeSearch(search).toString();
    search = next;
    const params = writeSearch(search);
    if (params.toString() === before) return;
    replaceQuery(params);
    variables = searchVariables(search);
    void reload();
  };
  const form = filterForm(
    search,
    (next, kind) => {
      clearTimeout(typing);
      if (kind === "now") apply(next);
      else typing = setTimeout(() => apply(next), TYPING_PAUSE_MS);
    },
    boards,
  );

  // The first page comes with the view: one request, no waterfall.
  try {
    showFirst(await (early ?? fetchPage(variables, null, true, signal)));
  } catch (error) {
    if (signal.aborted) throw error;
    list.fail(message(error), () => void reload());
  }

  return h(
    "section",
    { class: "jobs-page" },
    h("h1", { class: "visually-hidden" }, "Jobs"),
    form,
    h("div", { class: "list-head" }, count, savedSearches(() => writeSearch(search).toString())),
    banner.element,
    list.element,
  );
};
