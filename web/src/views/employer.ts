// An employer's page: how many jobs they posted and have open, and the jobs themselves. With
// several boards, on every chain (the same address may post on each) or on the one `?chain=`
// names.

import { boardOn, chainLabel, noBoard, servedBoards, type Board, type Boards } from "../boards";
import { h } from "../dom";
import { ApiError, gql } from "../graphql";
import { shortAddress } from "../format";
import type { View } from "../router";
import { JOB_CARD_FRAGMENT } from "./visitor/card";
import { jobList, type JobPage } from "./visitor/list";

const PAGE_SIZE = 20;

const EMPLOYER = `query Employer($chainId: BigInt, $address: Address!, $first: Int!, $after: String) {
  employer(chainId: $chainId, address: $address) {
    address jobCount openJobCount
    jobs(first: $first, after: $after, orderBy: NEWEST) { nodes { ...JobCard } pageInfo { hasNextPage endCursor } }
  }
}
${JOB_CARD_FRAGMENT}`;

// Across boards: the address's jobs on every chain, merged, and each board's counts for it.
const JOBS_ACROSS = `query EmployerJobs($address: Address!, $first: Int!, $after: String) {
  jobs(where: { employer: $address }, orderBy: NEWEST, first: $first, after: $after) { nodes { ...JobCard } pageInfo { hasNextPage endCursor } }
}
${JOB_CARD_FRAGMENT}`;

const COUNTS = `query EmployerCounts($chainId: BigInt, $address: Address!) {
  employer(chainId: $chainId, address: $address) { address jobCount openJobCount }
}`;

interface Counts {
  address: string;
  jobCount: number;
  openJobCount: number;
}

interface EmployerData extends Counts {
  jobs: JobPage;
}

/** How the page reads an employer: its record with the first page of jobs (null if the
 * address posted nothing there), and the pages after. */
interface EmployerSource {
  first(signal: AbortSignal): Promise<EmployerData | null>;
  after(cursor: string, signal: AbortSignal): Promise<JobPage>;
}

const NO_JOBS: JobPage = { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } };

/** The employer on one board. */
function onBoard(board: Board, address: string): EmployerSource {
  const load = async (after: string | null, signal: AbortSignal) =>
    (await gql<{ employer: EmployerData | null }>(EMPLOYER, { chainId: board.chainId, address, first: PAGE_SIZE, after }, { signal })).employer;
  return { first: (signal) => load(null, signal), after: async (cursor, signal) => (await load(cursor, signal))?.jobs ?? NO_JOBS };
}

/** The employer on every board served: counts summed, jobs merged by the API. */
function acrossBoards(boards: Boards, address: string): EmployerSource {
  const jobs = async (after: string | null, signal: AbortSignal) =>
    (await gql<{ jobs: JobPage }>(JOBS_ACROSS, { address, first: PAGE_SIZE, after }, { signal })).jobs;
  return {
    async first(signal) {
      const countOn = async (board: Board) =>
        (await gql<{ employer: Counts | null }>(COUNTS, { chainId: board.chainId, address }, { signal })).employer;
      const [page, counts] = await Promise.all([jobs(null, signal), Promise.all(boards.all.map(countOn))]);
      const found = counts.filter((count) => count !== null);
      const first = found[0];
      if (!first) return null;
      const sum = (field: "jobCount" | "openJobCount") => found.reduce((total, count) => total + count[field], 0);
      return { address: first.address, jobCount: sum("jobCount"), openJobCount: sum("openJobCount"), jobs: page };
    },
    after: (cursor, signal) => jobs(cursor, signal),
  };
}

function problem(title: string, text: string, testid: string): Node {
  return h(
    "section",
    { class: "empty", "data-testid": testid },
    h("h1", null, title),
    h("p", null, text),
    h("p", null, h("a", { href: "/" }, "See the open jobs")),
  );
}

/** The page of one employer at `/employers/:address` (`?chain=` for one chain's record). */
export const employerView: View = async ({ params, query, signal }) => {
  const address = params.address ?? "";
  const boards = await servedBoards();
  const chain = query.get("chain");
  const board = chain === null ? (boards.several ? null : boards.first) : boardOn(boards, chain);
  if (chain !== null && !board) return noBoard(chain);
  const source = board ? onBoard(board, address) : acrossBoards(boards, address);

  let employer: EmployerData | null;
  try {
    employer = await source.first(signal);
  } catch (error) {
    if (error instanceof ApiError && error.code === "BAD_USER_INPUT") {
      return problem(
        "Not an address",
        `“${address}” is not an Ethereum address: it should be 0x followed by 40 hexadecimal digits.`,
        "bad-address",
      );
    }
    throw error;
  }
  const where = boards.several ? (board ? ` on ${chainLabel(boards, board.chainId)}` : " on any chain") : "";
  const across = boards.several && (board ? [`${where} · `, h("a", { href: `/employers/${address}` }, "all chains")] : " across all chains");
  if (!employer) {
    return problem("No jobs from this address", `${address} has not posted any job on this board${where}.`, "unknown-employer");
  }

  const list = jobList((after, pageSignal) => source.after(after, pageSignal), () => h("p", null, "No jobs."), signal, boards);
  list.show(employer.jobs);
  // Each posting names its company freely; the names on the newest page say who this is.
  const companies = [...new Set(employer.jobs.nodes.map((job) => job.company).filter((name) => name !== ""))];

  return h(
    "section",
    { class: "employer-page" },
    h("p", { class: "back" }, h("a", { href: "/" }, "← All jobs")),
    h("h1", null, `Employer ${shortAddress(employer.address)}`),
    h("p", { class: "address" }, h("code", { "data-testid": "employer-address" }, employer.address)),
    companies.length > 0 && h("p", { class: "employer-companies" }, "Posts as ", h("strong", null, companies.join(", "))),
    h(
      "p",
      { class: "employer-counts", "data-testid": "employer-counts" },
      h("strong", null, String(employer.openJobCount)),
      ` open of `,
      h("strong", null, String(employer.jobCount)),
      ` job${employer.jobCount === 1 ? "" : "s"} posted`,
      across,
    ),
    h("h2", null, "Jobs"),
    list.element,
  );
};
