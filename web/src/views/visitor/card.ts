// A job as a card in a list: what a job seeker scans first (title, pay, company, place, tags)
// and when it was posted and closes. Every value comes from a posting, so all of it is text.

import { chainBadge, jobPath, type Boards } from "../../boards";
import { h } from "../../dom";
import { date, relative, salaryRange, shortAddress, statusLabel } from "../../format";

/** The fields a card shows, as a GraphQL fragment (one query fetches a whole page of cards). */
export const JOB_CARD_FRAGMENT = `fragment JobCard on Job {
  chainId id title company location tags salaryCurrency salaryMin salaryMax deadline status postedAt
  applicationCount employer { address }
}`;

/** A job as JOB_CARD_FRAGMENT returns it. */
export interface JobCardData {
  chainId: string;
  id: string;
  title: string;
  company: string;
  location: string;
  tags: string[];
  salaryCurrency: string;
  salaryMin: string | null;
  salaryMax: string | null;
  deadline: string | null;
  status: string;
  postedAt: string;
  applicationCount: number;
  employer: { address: string };
}

const STATUSES = new Set(["OPEN", "CLOSED", "EXPIRED"]);

/** The status as a badge whose text says it (the colour only repeats it). */
export function statusBadge(status: string): HTMLElement {
  const known = STATUSES.has(status) ? status.toLowerCase() : "";
  return h("span", { class: `badge ${known}`, "data-testid": "job-status" }, statusLabel(status));
}

/** The pay line: the range, or a plain "Pay not disclosed". */
export function payLine(job: Pick<JobCardData, "salaryCurrency" | "salaryMin" | "salaryMax">, tag: "p" | "span" = "p"): HTMLElement {
  const range = salaryRange(job.salaryCurrency, job.salaryMin, job.salaryMax);
  return h(tag, { class: range ? "pay" : "pay undisclosed", "data-testid": "job-pay" }, range ?? "Pay not disclosed");
}

/** Tags as chips linking to the list filtered by that tag. */
export function tagList(tags: string[]): HTMLElement | null {
  if (tags.length === 0) return null;
  return h(
    "ul",
    { class: "tags", "aria-label": "Tags" },
    tags.map((tag) => h("li", null, h("a", { class: "tag", href: `/?${new URLSearchParams({ tags: tag })}` }, tag))),
  );
}

/** "3 applications", "1 application", "No applications yet". */
export function applicationCount(count: number): string {
  if (count === 0) return "No applications yet";
  return `${count} application${count === 1 ? "" : "s"}`;
}

/** One job as a card; the title links to its page and the whole card is its click target.
 * With several boards it carries its chain's badge (ids repeat on every chain). */
export function jobCard(job: JobCardData, boards: Boards, now = Date.now()): HTMLElement {
  return h(
    "article",
    { class: "job-card card", "data-testid": "job-card", "data-job-id": job.id, "data-chain-id": job.chainId },
    h(
      "div",
      { class: "job-card-head" },
      h("h2", { class: "job-card-title" }, h("a", { href: jobPath(boards, job.chainId, job.id) }, job.title || "(untitled)")),
      payLine(job),
    ),
    h(
      "p",
      { class: "job-card-meta" },
      chainBadge(boards, job.chainId),
      h("a", { class: "company", href: `/employers/${job.employer.address}` }, job.company || shortAddress(job.employer.address)),
      job.location && [" · ", h("span", { class: "location" }, job.location)],
      job.status !== "OPEN" && [" ", statusBadge(job.status)],
    ),
    tagList(job.tags),
    h(
      "p",
      { class: "job-card-foot" },
      h("time", { datetime: job.postedAt, title: date(job.postedAt) }, `Posted ${relative(job.postedAt, now)}`),
      job.deadline && [" · ", h("time", { datetime: job.deadline }, `Apply by ${date(job.deadline)}`)],
      " · ",
      h("span", { "data-testid": "application-count" }, applicationCount(job.applicationCount)),
    ),
  );
}
