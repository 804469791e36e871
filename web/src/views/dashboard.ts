// The employer's dashboard: the connected address's jobs with their applications counted per
// status, the totals, and the way to post, edit, close and review.

import type { Address } from "viem";
import { h } from "../dom";
import { date, statusLabel } from "../format";
import { gql } from "../graphql";
import type { View } from "../router";
import { STATUS_CODES } from "../wallet/abi";
import { walletGate } from "../wallet/gate";
import { fresh } from "../wallet/transactions";

type Counts = Record<(typeof STATUS_CODES)[number], { totalCount: number }>;

interface DashboardJob extends Counts {
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
    jobs(first: 100) { nodes { id title company status postedAt deadline ${counts} } }
  }
}`;

function countCells(job: Counts): HTMLElement[] {
  return STATUS_CODES.map((status) => h("td", { class: "num", "data-label": statusLabel(status) }, String(job[status].totalCount)));
}

function table(jobs: DashboardJob[]): HTMLElement {
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
            { "data-job": job.id },
            h("th", { scope: "row" }, h("a", { href: `/jobs/${job.id}` }, job.title || "(untitled)"), h("div", { class: "hint" }, `#${job.id} · posted ${date(job.postedAt)}${job.deadline ? ` · deadline ${date(job.deadline)}` : ""}`)),
            h("td", { "data-label": "Status" }, h("span", { class: `badge ${job.status.toLowerCase()}` }, statusLabel(job.status))),
            countCells(job),
            h(
              "td",
              { class: "actions" },
              h("a", { class: "button", href: `/jobs/${job.id}/applications` }, "Applications"),
              job.status !== "CLOSED" ? h("a", { class: "button", href: `/jobs/${job.id}/edit` }, "Edit") : null,
              job.status !== "CLOSED" ? h("a", { class: "button", href: `/jobs/${job.id}` }, "Close…") : null,
            ),
          ),
        ),
      ),
      h("tfoot", null, h("tr", null, h("th", { scope: "row" }, "Total"), h("td"), countCells(totals), h("td"))),
    ),
  );
}

async function dashboard(account: Address, signal: AbortSignal): Promise<Node> {
  const data = await gql<{ employer: { jobCount: number; openJobCount: number; jobs: { nodes: DashboardJob[] } } | null }>(DASHBOARD, { me: account }, fresh(signal));
  const employer = data.employer;
  if (!employer || employer.jobCount === 0) {
    return h("div", { class: "empty" }, h("p", null, "You have not posted a job from this address yet."), h("a", { class: "button primary", href: "/post" }, "Post a job"));
  }
  return h(
    "div",
    { class: "stack" },
    h("p", { class: "muted" }, `${employer.jobCount} job${employer.jobCount === 1 ? "" : "s"} posted, ${employer.openJobCount} open, from ${account}`),
    table(employer.jobs.nodes),
  );
}

/** /dashboard: the connected employer's jobs. */
export const dashboardView: View = ({ signal }) =>
  h(
    "section",
    { class: "stack" },
    h("div", { class: "row spread" }, h("h1", null, "Dashboard"), h("a", { class: "button primary", href: "/post" }, "Post a job")),
    walletGate(signal, "Connect the wallet you post jobs from to see your jobs and their applications.", dashboard),
  );
