// The employer's dashboard: the connected address's jobs with their applications counted per
// status, the totals, and the way to post, edit, close and review. With several boards, the
// jobs of every chain, each with its chain's badge.

import type { Address } from "viem";
import { chainBadge, jobPath, servedBoards, type Board, type Boards } from "../boards";
import { h } from "../dom";
import { date, statusLabel } from "../format";
import { gql } from "../graphql";
import type { View } from "../router";
import { STATUS_CODES } from "../wallet/abi";
import { walletGate } from "../wallet/gate";
import { fresh } from "../wallet/transactions";

type Counts = Record<(typeof STATUS_CODES)[number], { totalCount: number }>;

interface DashboardJob extends Counts {
  chainId: string;
  id: string;
  title: string;
  company: string;
  status: string;
  postedAt: string;
  deadline: string | null;
}

const counts = STATUS_CODES.map((status) => `${status}: applications(where: { status: ${status} }, first: 1) { totalCount }`).join("\n");

const DASHBOARD = `query Dashboard($chainId: BigInt, $me: Address!) {
  employer(chainId: $chainId, address: $me) {
    jobCount openJobCount
    jobs(first: 100) { nodes { chainId id title company status postedAt deadline ${counts} } }
  }
}`;

function countCells(job: Counts): HTMLElement[] {
  return STATUS_CODES.map((status) => h("td", { class: "num", "data-label": statusLabel(status) }, String(job[status].totalCount)));
}

interface EmployerAnswer {
  employer: { jobCount: number; openJobCount: number; jobs: { nodes: DashboardJob[] } } | null;
}

function table(jobs: DashboardJob[], boards: Boards): HTMLElement {
  const totals = Object.fromEntries(
    STATUS_CODES.map((status) => [status, { totalCount: jobs.reduce((sum, job) => sum + job[status].totalCount, 0) }]),
  ) as Counts;
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "dashboard" },
      h("caption", { class: "visually-hidden" }, "Your jobs and their applications by status"),
      h(
        "thead",
        null,
        h("tr", null, h("th", { scope: "col" }, "Job"), h("th", { scope: "col" }, "Status"), STATUS_CODES.map((status) => h("th", { scope: "col", class: "num" }, statusLabel(status))), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions"))),
      ),
      h(
        "tbody",
        null,
        jobs.map((job) =>
          h(
            "tr",
            { "data-job": job.id, "data-chain-id": job.chainId },
            h(
              "th",
              { scope: "row" },
              h("a", { href: jobPath(boards, job.chainId, job.id) }, job.title || "(untitled)"),
              h("div", { class: "hint" }, chainBadge(boards, job.chainId), `#${job.id} · posted ${date(job.postedAt)}${job.deadline ? ` · deadline ${date(job.deadline)}` : ""}`),
            ),
            h("td", { "data-label": "Status" }, h("span", { class: `badge ${job.status.toLowerCase()}` }, statusLabel(job.status))),
            countCells(job),
            h(
              "td",
              { class: "actions" },
              h("a", { class: "button", href: jobPath(boards, job.chainId, job.id, "applications") }, "Applications"),
              job.status !== "CLOSED" ? h("a", { class: "button", href: jobPath(boards, job.chainId, job.id, "edit") }, "Edit") : null,
              job.status !== "CLOSED" ? h("a", { class: "button", href: jobPath(boards, job.chainId, job.id) }, "Close…") : null,
            ),
          ),
        ),
      ),
      h("tfoot", null, h("tr", null, h("th", { scope: "row" }, "Total"), h("td"), countCells(totals), h("td"))),
    ),
  );
}

/** The employer on one board (an employer is per chain: the same address on another chain is
 * another employer's record). */
async function employerOn(board: Board, account: Address, signal: AbortSignal): Promise<EmployerAnswer["employer"]> {
  return (await gql<EmployerAnswer>(DASHBOARD, { chainId: board.chainId, me: account }, fresh(signal, board.chainId))).employer;
}

async function dashboard(boards: Boards, account: Address, signal: AbortSignal): Promise<Node> {
  const found = (await Promise.all(boards.all.map((board) => employerOn(board, account, signal)))).filter((e) => e !== null);
  const jobCount = found.reduce((sum, employer) => sum + employer.jobCount, 0);
  const openJobCount = found.reduce((sum, employer) => sum + employer.openJobCount, 0);
  if (jobCount === 0) {
    return h("div", { class: "empty" }, h("p", null, "You have not posted a job from this address yet."), h("a", { class: "button primary", href: "/post" }, "Post a job"));
  }
  // Each board's jobs come newest first; across boards, by the time they were posted.
  const jobs = found.flatMap((employer) => employer.jobs.nodes);
  if (found.length > 1) jobs.sort((a, b) => Date.parse(b.postedAt) - Date.parse(a.postedAt));
  const chains = found.length > 1 ? ` on ${found.length} chains` : "";
  return h(
    "div",
    { class: "stack" },
    h("p", { class: "muted" }, `${jobCount} job${jobCount === 1 ? "" : "s"} posted${chains}, ${openJobCount} open, from ${account}`),
    table(jobs, boards),
  );
}

/** /dashboard: the connected employer's jobs, on every board served. */
export const dashboardView: View = async ({ signal }) => {
  const boards = await servedBoards();
  return h(
    "section",
    { class: "stack" },
    h("div", { class: "row spread" }, h("h1", null, "Dashboard"), h("a", { class: "button primary", href: "/post" }, "Post a job")),
    walletGate(
      signal,
      "Connect the wallet you post jobs from to see your jobs and their applications.",
      (account, own) => dashboard(boards, account, own),
      boards.several ? null : boards.first,
    ),
  );
};
