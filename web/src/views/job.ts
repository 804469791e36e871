// A job's page: everything about the posting, its description rendered from Markdown, its
// history, and the wallet's actions (apply; for its employer: edit, close, applications).

import { chainBadge, routeBoard, servedBoards, withChain } from "../boards";
import { h } from "../dom";
import { date, relative, shortAddress } from "../format";
import { gql } from "../graphql";
import type { PostingFields } from "../posting";
import type { View } from "../router";
import { jobActions } from "./apply";
import { applicationCount, payLine, statusBadge, tagList } from "./visitor/card";
import { REVISION_FIELDS, revisionHistory, type Revision } from "./visitor/revisions";

const REVISION_LIMIT = 50;

const JOB = `query Job($chainId: BigInt, $id: ID!, $revisions: Int!) {
  job(chainId: $chainId, id: $id) {
    id title company location tags description salaryCurrency salaryMin salaryMax
    deadline deadlineUnix status postedAt postedBlock postedTx updatedAt closedAt applicationCount
    employer { address jobCount }
    revisions(first: $revisions) { ${REVISION_FIELDS} }
  }
}`;

interface JobData extends PostingFields {
  id: string;
  status: string;
  postedAt: string;
  postedBlock: string;
  postedTx: string;
  updatedAt: string;
  closedAt: string | null;
  applicationCount: number;
  employer: { address: string; jobCount: number };
  revisions: Revision[];
}

/** A time as "2 Dec 2026 (in 5 days)", machine-readable in <time>. */
function when(iso: string): HTMLElement {
  return h("time", { datetime: iso }, `${date(iso)} (${relative(iso)})`);
}

/** A term and its value in the facts list. */
function fact(term: string, ...value: (Node | string | null)[]): Node[] {
  return [h("dt", null, term), h("dd", null, ...value)];
}

function notFound(id: string, chain?: string): Node {
  return h(
    "section",
    { class: "empty", "data-testid": "job-not-found" },
    h("h1", null, "No such job"),
    h("p", null, `The board${chain ? ` on chain ${chain}` : ""} has no job #${id}. It may not be indexed yet, or the link is wrong.`),
    h("p", null, h("a", { href: "/" }, "See the open jobs")),
  );
}

/** The page of one job at `/jobs/:chain/:id`, or `/jobs/:id` on the first board. */
export const jobView: View = async ({ params, signal }) => {
  const id = params.id ?? "";
  const boards = await servedBoards();
  const board = routeBoard(boards, params.chain);
  if (!board || !/^\d{1,78}$/.test(id)) return notFound(id, params.chain);
  // The Markdown renderer loads beside the job (its own chunk when the bundle is split).
  const [data, { renderMarkdown }] = await Promise.all([
    gql<{ job: JobData | null }>(JOB, { chainId: board.chainId, id, revisions: REVISION_LIMIT }, { signal }),
    import("../markdown"),
  ]);
  const job = data.job;
  if (!job) return notFound(id, params.chain);

  // The employer's page on this job's chain, where the count beside the link was read.
  const employerHref = withChain(boards, `/employers/${job.employer.address}`, board.chainId);
  const deadline = job.deadline
    ? when(job.deadline)
    : job.deadlineUnix
      ? "After the year 9999"
      : h("span", { class: "muted" }, "None");

  return h(
    "article",
    { class: "job-page", "data-testid": "job-page", "data-job-id": job.id, "data-chain-id": board.chainId },
    h("p", { class: "back" }, h("a", { href: "/" }, "← All jobs")),
    h(
      "header",
      { class: "job-head" },
      h("h1", { "data-testid": "job-title" }, job.title || "(untitled)"),
      h(
        "p",
        { class: "job-sub" },
        h("a", { href: employerHref, class: "company" }, job.company || shortAddress(job.employer.address)),
        job.location && [" · ", h("span", { class: "location" }, job.location)],
      ),
      h("div", { class: "row" }, payLine(job, "span"), statusBadge(job.status), chainBadge(boards, board.chainId)),
      tagList(job.tags),
    ),
    h(
      "div",
      { class: "job-layout" },
      h(
        "div",
        { class: "job-main" },
        h(
          "section",
          { class: "card description", "aria-labelledby": "about-job" },
          h("h2", { id: "about-job", class: "visually-hidden" }, "Description"),
          job.description.trim() ? renderMarkdown(job.description) : h("p", { class: "muted" }, "The employer wrote no description."),
        ),
        revisionHistory(job.revisions, REVISION_LIMIT),
      ),
      h(
        "aside",
        { class: "job-side", "aria-label": "About this job" },
        jobActions({ board, id: job.id, title: job.title, status: job.status, employer: job.employer.address }, boards, signal),
        h(
          "dl",
          { class: "facts card" },
          fact("Status", statusBadge(job.status)),
          fact("Pay", payLine(job, "span")),
          fact("Deadline", deadline),
          fact("Applications", applicationCount(job.applicationCount)),
          boards.several ? fact("Chain", `${board.name} (chain id ${board.chainId})`) : [],
          fact("Posted", when(job.postedAt), h("span", { class: "muted block" }, `block ${job.postedBlock}`)),
          job.updatedAt !== job.postedAt && !job.closedAt ? fact("Updated", when(job.updatedAt)) : [],
          job.closedAt ? fact("Closed", when(job.closedAt)) : [],
          fact(
            "Employer",
            h("a", { href: employerHref, "data-testid": "employer-link" }, shortAddress(job.employer.address)),
            h("span", { class: "muted block" }, `${job.employer.jobCount} job${job.employer.jobCount === 1 ? "" : "s"} posted`),
          ),
        ),
      ),
    ),
  );
};
