// A job's applications for its employer: filter by status, and shortlist, reject or hire one
// by one or as a batch (setApplicationStatusBatch, all or nothing). Only the transitions the
// contract allows are offered.

import type { Address } from "viem";
import { headingOnChain, jobPath, noBoard, routeBoard, servedBoards, withChain, type Board, type Boards } from "../boards";
import { h, replace, toast } from "../dom";
import { date, relative, shortAddress, statusLabel } from "../format";
import { gql } from "../graphql";
import { replaceQuery, type View } from "../router";
import { STATUS_CODES, statusCode, type ApplicationStatus, type EmployerStatus } from "../wallet/abi";
import { walletGate } from "../wallet/gate";
import { runTransaction, txStatus } from "../wallet/progress";
import { fresh } from "../wallet/transactions";

interface Row {
  id: string;
  status: ApplicationStatus;
  submittedAt: string;
  applicationHash: string;
  applicant: { address: string };
}

interface JobApplications {
  id: string;
  title: string;
  status: string;
  employer: { address: string };
  applications: { totalCount: number; nodes: Row[] };
}

const QUERY = `query JobApplications($chainId: BigInt, $id: ID!, $where: ApplicationFilter) {
  job(chainId: $chainId, id: $id) {
    id title status employer { address }
    applications(where: $where, first: 500, orderBy: OLDEST) {
      totalCount
      nodes { id status submittedAt applicationHash applicant { address } }
    }
  }
}`;

const ACTIONS: { status: EmployerStatus; label: string }[] = [
  { status: "SHORTLISTED", label: "Shortlist" },
  { status: "REJECTED", label: "Reject" },
  { status: "HIRED", label: "Hire" },
];

/** Whether the employer may move an application from `from` to `to` (the contract's rule). */
export function employerMaySet(from: ApplicationStatus, to: EmployerStatus): boolean {
  return from === "SUBMITTED" || (from === "SHORTLISTED" && to !== "SHORTLISTED");
}

function applicationsPanel(boards: Boards, board: Board, id: string, initialStatus: string, account: Address, signal: AbortSignal): Promise<Node> {
  const host = h("div", { class: "stack" });
  const filter = h(
    "select",
    { id: "application-status-filter" },
    h("option", { value: "" }, "All statuses"),
    STATUS_CODES.map((status) => h("option", { value: status, selected: status === initialStatus }, statusLabel(status))),
  );
  const list = h("div", { class: "stack" });
  const status = txStatus();
  const selected = new Set<string>();

  const load = async (): Promise<void> => {
    const where = filter.value ? { status: filter.value } : null;
    const { job } = await gql<{ job: JobApplications | null }>(QUERY, { chainId: board.chainId, id, where }, fresh(signal, board.chainId));
    if (signal.aborted) return;
    if (!job) return void replace(host, h("div", { class: "empty" }, `The board has no job #${id}.`));
    const mine = job.employer.address.toLowerCase() === account;
    selected.clear();
    const rows = job.applications.nodes;
    const batchButtons = ACTIONS.map(({ status: to, label }) => {
      const button = h("button", { type: "button", "data-batch": to, disabled: true }, `${label} selected`);
      button.addEventListener("click", () => void act([...selected], to, button));
      return button;
    });
    const count = h("span", { class: "muted", role: "status" }, "None selected");
    const refreshBatch = () => {
      const chosen = rows.filter((row) => selected.has(row.id));
      count.textContent = chosen.length ? `${chosen.length} selected` : "None selected";
      batchButtons.forEach((button, i) => {
        const to = ACTIONS[i]?.status ?? "REJECTED";
        button.disabled = chosen.length === 0 || !chosen.every((row) => employerMaySet(row.status, to));
      });
    };
    const act = async (ids: string[], to: EmployerStatus, trigger: HTMLButtonElement) => {
      const call =
        ids.length === 1
          ? ({ functionName: "setApplicationStatus", args: [BigInt(ids[0] ?? "0"), statusCode(to)] } as const)
          : ({ functionName: "setApplicationStatusBatch", args: [ids.map((x) => BigInt(x)), statusCode(to)] } as const);
      const all = [...list.querySelectorAll("button")];
      const receipt = await runTransaction(call, board, status, [trigger, ...all]);
      if (!receipt) return;
      toast(`${ids.length === 1 ? `Application #${ids[0]}` : `${ids.length} applications`} ${statusLabel(to).toLowerCase()}.`, "ok");
      await load();
    };
    const row = (application: Row) => {
      const actionable = mine && ACTIONS.some(({ status: to }) => employerMaySet(application.status, to));
      const box = h("input", { type: "checkbox", id: `select-${application.id}`, value: application.id });
      box.addEventListener("change", () => {
        if (box.checked) selected.add(application.id);
        else selected.delete(application.id);
        refreshBatch();
      });
      return h(
        "li",
        { class: "card application-row", "data-application": application.id },
        actionable ? h("div", { class: "check" }, box, h("label", { for: box.id }, h("span", { class: "visually-hidden" }, "Select "), `#${application.id}`)) : h("span", { class: "muted" }, `#${application.id}`),
        h(
          "div",
          { class: "who" },
          h(
            "a",
            { href: withChain(boards, `/verify?application=${application.id}`, board.chainId), title: application.applicant.address },
            shortAddress(application.applicant.address),
          ),
          h("div", { class: "hint" }, "Submitted ", h("time", { datetime: application.submittedAt, title: date(application.submittedAt) }, relative(application.submittedAt))),
          h("code", { class: "tx-hash", title: application.applicationHash }, `${application.applicationHash.slice(0, 10)}…`),
        ),
        h("span", { class: `badge ${application.status.toLowerCase()}` }, statusLabel(application.status)),
        mine
          ? h(
              "div",
              { class: "row actions" },
              ACTIONS.filter(({ status: to }) => employerMaySet(application.status, to)).map(({ status: to, label }) => {
                const button = h("button", { type: "button", "data-action": to, "aria-label": `${label} application #${application.id}` }, label);
                button.addEventListener("click", () => void act([application.id], to, button));
                return button;
              }),
            )
          : null,
      );
    };
    replace(
      list,
      h(
        "p",
        { class: "muted" },
        `${job.applications.totalCount} application${job.applications.totalCount === 1 ? "" : "s"}${filter.value ? ` ${statusLabel(filter.value).toLowerCase()}` : ""} to `,
        h("a", { href: jobPath(boards, board.chainId, job.id) }, job.title || `job #${job.id}`),
        ` (${statusLabel(job.status).toLowerCase()})`,
      ),
      mine ? null : h("p", { class: "notice" }, `Only the job's employer (${job.employer.address}) can change these statuses.`),
      mine && rows.some((r) => ACTIONS.some(({ status: to }) => employerMaySet(r.status, to)))
        ? h("div", { class: "row batch", role: "group", "aria-label": "Batch actions" }, count, batchButtons)
        : null,
      rows.length ? h("ul", { class: "plain stack" }, rows.map(row)) : h("p", { class: "empty" }, "No applications here."),
    );
  };
  filter.addEventListener("change", () => {
    const query = new URLSearchParams(location.search);
    if (filter.value) query.set("status", filter.value);
    else query.delete("status");
    replaceQuery(query);
    status.clear();
    void load();
  });
  replace(host, h("div", { class: "field inline" }, h("label", { for: filter.id }, "Status"), filter), status.element, list);
  return load().then(() => host);
}

/** /jobs/:chain/:id/applications (or /jobs/:id/applications on the first board): the job's
 * applications, and the employer's decisions on them, sent on the job's chain. */
export const jobApplicationsView: View = async ({ params, query, signal }) => {
  const id = params.id ?? "";
  const initial = query.get("status") ?? "";
  const boards = await servedBoards();
  const board = routeBoard(boards, params.chain);
  if (!board) return noBoard(params.chain);
  return h(
    "section",
    { class: "stack" },
    headingOnChain(boards, board.chainId, h("h1", null, `Applications to job #${id}`)),
    walletGate(
      signal,
      "Connect the wallet that posted this job to review its applications.",
      (account, own) => applicationsPanel(boards, board, id, initial, account, own),
      board,
    ),
  );
};
