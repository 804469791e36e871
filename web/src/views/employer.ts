// An employer's page: how many jobs they posted and have open, and the jobs themselves.

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

interface EmployerData {
  address: string;
  jobCount: number;
  openJobCount: number;
  jobs: JobPage;
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

/** The page of one employer at `/employers/:address`. */
export const employerView: View = async ({ params, signal }) => {
  const address = params.address ?? "";
  const load = (after: string | null, requestSignal: AbortSignal) =>
    gql<{ employer: EmployerData | null }>(EMPLOYER, { address, first: PAGE_SIZE, after }, { signal: requestSignal });

  let employer: EmployerData | null;
  try {
    employer = (await load(null, signal)).employer;
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
  if (!employer) {
    return problem("No jobs from this address", `${address} has not posted any job on this board.`, "unknown-employer");
  }

  const list = jobList(
    async (after, pageSignal) => {
      const next = (await load(after, pageSignal)).employer;
      return next ? next.jobs : { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } };
    },
    () => h("p", null, "No jobs."),
    signal,
  );
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
    ),
    h("h2", null, "Jobs"),
    list.element,
  );
};
