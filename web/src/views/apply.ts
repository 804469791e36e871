// The job page's wallet panel: an applicant applies with a document that never leaves the
// browser (its sha256, a random salt and the application hash are computed here, and the
// receipt is saved before sending); the job's employer gets edit, applications and close.

import { parseEventLogs, type Address, type Hex } from "viem";
import { jobPath, type Board, type Boards } from "../boards";
import { h, replace } from "../dom";
import { date, statusLabel } from "../format";
import { gql } from "../graphql";
import { render } from "../router";
import { jobBoardAbi } from "../wallet/abi";
import { downloadText } from "../wallet/download";
import { walletGate } from "../wallet/gate";
import { applicationHash, documentHash, randomSalt } from "../wallet/hash";
import { runTransaction, txStatus } from "../wallet/progress";
import { encodeReceipt, receiptFileName, type Receipt } from "../wallet/receipt";
import { fresh } from "../wallet/transactions";

/** The job the wallet actions act on, as the job page knows it. */
export interface JobSummary {
  /** The board the job is on: every action reads and writes there. */
  board: Board;
  id: string;
  title: string;
  status: string;
  employer: string;
}

interface Existing {
  id: string;
  status: string;
  submittedAt: string;
}

const EXISTING = `query Mine($chainId: BigInt, $job: ID!, $me: Address!) {
  applications(chainId: $chainId, where: { jobId: $job, applicant: $me, status_in: [SUBMITTED, SHORTLISTED, REJECTED, HIRED] }, first: 1) {
    nodes { id status submittedAt }
  }
}`;

/** The employer's tools for their own job: edit, applications, and close (after a confirm). */
function employerActions(job: JobSummary, boards: Boards): Node {
  const status = txStatus();
  const links = h(
    "div",
    { class: "row" },
    h("a", { class: "button", href: jobPath(boards, job.board.chainId, job.id, "applications") }, "Applications"),
    job.status !== "CLOSED" ? h("a", { class: "button", href: jobPath(boards, job.board.chainId, job.id, "edit") }, "Edit") : null,
  );
  const panel = h("div", { class: "stack" }, h("h2", null, "Your job"), links, status.element);
  if (job.status === "CLOSED") return panel;
  const ask = h("button", { type: "button", class: "danger" }, "Close job…");
  const confirm = h("div", { class: "confirm notice", hidden: true, role: "group", "aria-label": "Confirm closing" });
  const yes = h("button", { type: "button", class: "danger" }, "Close job");
  const no = h("button", { type: "button" }, "Keep it open");
  replace(
    confirm,
    h("p", null, "Close this job? It will take no more applications or updates; this cannot be undone. You can still shortlist, reject or hire its applicants."),
    h("div", { class: "row" }, yes, no),
  );
  ask.addEventListener("click", () => {
    confirm.hidden = false;
    ask.hidden = true;
    no.focus();
  });
  no.addEventListener("click", () => {
    confirm.hidden = true;
    ask.hidden = false;
    ask.focus();
  });
  yes.addEventListener("click", async () => {
    const receipt = await runTransaction({ functionName: "closeJob", args: [BigInt(job.id)] }, job.board, status, [yes, no]);
    if (receipt) void render();
  });
  links.append(ask);
  panel.append(confirm);
  return panel;
}

/** The applicant's form: pick a document, save the receipt, then apply. */
function applyForm(job: JobSummary, account: Address, done: (node: Node) => void): Node {
  const input = h("input", { type: "file", id: `apply-document-${job.id}`, name: "document", required: true });
  const facts = h("div", { class: "apply-facts" });
  const save = h("button", { type: "button" }, "Download receipt");
  const saved = h("input", { type: "checkbox", id: `apply-saved-${job.id}` });
  const apply = h("button", { type: "button", class: "primary", disabled: true }, "Apply");
  const status = txStatus();
  const receiptStep = h(
    "div",
    { class: "stack receipt-step", hidden: true },
    h("p", null, "Save your receipt before applying: it holds the salt, without which nobody can verify your application. Keep it beside the document and hand both to the employer."),
    h("div", { class: "row" }, save, h("span", { class: "hint saved-note", role: "status" })),
    h("div", { class: "check" }, saved, h("label", { for: saved.id }, "I saved the receipt")),
  );
  let prepared: { receipt: Receipt; name: string } | null = null;

  const ready = () => (apply.disabled = !prepared || !saved.checked);
  input.addEventListener("change", async () => {
    prepared = null;
    saved.checked = false;
    ready();
    status.clear();
    const file = input.files?.[0];
    if (!file) return void (receiptStep.hidden = true);
    replace(facts, h("p", { class: "muted" }, "Hashing the document in your browser…"));
    const docHash = await documentHash(await file.arrayBuffer());
    const salt = randomSalt();
    const chainId = job.board.chainId;
    const board = job.board.contract.toLowerCase() as Address;
    const hash = applicationHash({ chainId: BigInt(chainId), board, jobId: BigInt(job.id), applicant: account, salt, documentHash: docHash });
    prepared = {
      name: file.name,
      receipt: { status: "pending", chainId: Number(chainId), board, jobId: job.id, applicant: account, salt, documentHash: docHash, applicationHash: hash },
    };
    replace(
      facts,
      h(
        "dl",
        { class: "hashes" },
        h("dt", null, "Document"),
        h("dd", null, `${file.name} (${file.size.toLocaleString("en-US")} bytes)`),
        h("dt", null, "sha256"),
        h("dd", null, h("code", null, docHash)),
        h("dt", null, "Application hash"),
        h("dd", null, h("code", null, hash)),
      ),
    );
    receiptStep.hidden = false;
  });
  save.addEventListener("click", () => {
    if (!prepared) return;
    downloadText(receiptFileName(prepared.name), encodeReceipt(prepared.receipt));
    saved.checked = true;
    const note = receiptStep.querySelector(".saved-note");
    if (note) note.textContent = `Saved as ${receiptFileName(prepared.name)}`;
    ready();
  });
  saved.addEventListener("change", ready);
  apply.addEventListener("click", async () => {
    if (!prepared) return;
    const { receipt: pending, name } = prepared;
    const receipt = await runTransaction({ functionName: "applyTo", args: [BigInt(job.id), pending.applicationHash as Hex] }, job.board, status, [apply, save]);
    if (!receipt) return;
    const [event] = parseEventLogs({ abi: jobBoardAbi, eventName: "ApplicationSubmitted", logs: receipt.logs });
    const mined: Receipt = {
      ...pending,
      status: "mined",
      applicationId: event ? String(event.args.applicationId) : undefined,
      txHash: receipt.transactionHash,
      block: Number(receipt.blockNumber),
    };
    if (!mined.applicationId) delete mined.applicationId;
    const again = h("button", { type: "button" }, "Download the updated receipt");
    again.addEventListener("click", () => downloadText(receiptFileName(name), encodeReceipt(mined)));
    done(
      h(
        "div",
        { class: "stack applied" },
        h("h2", null, "Applied"),
        h("p", { role: "status" }, `Your application${mined.applicationId ? ` #${mined.applicationId}` : ""} was confirmed in block ${mined.block}. Status: Submitted.`),
        h("p", { class: "hint" }, "The updated receipt adds the application id and transaction; the one you saved already verifies."),
        h("div", { class: "row" }, again, h("a", { class: "button", href: "/me" }, "My applications")),
      ),
    );
  });
  return h(
    "form",
    { class: "stack apply-form", onsubmit: (event: Event) => event.preventDefault() },
    h("h2", null, "Apply"),
    h("p", { class: "hint" }, "Your document never leaves your browser: only a salted hash of it goes on-chain."),
    h("div", { class: "field" }, h("label", { for: input.id }, "Your document (CV, cover letter…)"), input),
    facts,
    receiptStep,
    h("div", { class: "row" }, apply),
    status.element,
  );
}

/** The panel for a connected account that is not the employer. */
async function applicantActions(job: JobSummary, account: Address, signal: AbortSignal): Promise<Node> {
  const host = h("div", { class: "stack" });
  const data = await gql<{ applications: { nodes: Existing[] } }>(
    EXISTING,
    { chainId: job.board.chainId, job: job.id, me: account },
    fresh(signal, job.board.chainId),
  );
  const existing = data.applications.nodes[0];
  if (existing) {
    replace(
      host,
      h("h2", null, "Your application"),
      h(
        "p",
        null,
        `You applied on ${date(existing.submittedAt)} (application #${existing.id}). Status: `,
        h("span", { class: `badge ${existing.status.toLowerCase()}` }, statusLabel(existing.status)),
      ),
      h("a", { href: "/me" }, "See My applications"),
    );
  } else if (job.status !== "OPEN") {
    replace(host, h("p", { class: "muted" }, "This job takes no more applications."));
  } else {
    replace(host, applyForm(job, account, (node) => replace(host, node)));
  }
  return host;
}

/** The job page's wallet actions (apply; for the employer: edit, close, applications), on the
 * job's chain: a wallet elsewhere is asked to switch first. */
export function jobActions(job: JobSummary, boards: Boards, signal: AbortSignal): Node {
  const why =
    job.status === "OPEN"
      ? "Connect your wallet to apply. Your document stays in your browser."
      : "This job takes no more applications. Its employer can connect a wallet to manage it.";
  return h(
    "section",
    { class: "card job-actions", "aria-label": "Apply or manage" },
    walletGate(
      signal,
      why,
      (account, own) => (account === job.employer.toLowerCase() ? employerActions(job, boards) : applicantActions(job, account, own)),
      job.board,
    ),
  );
}
