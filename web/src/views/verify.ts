// Verify a received document: recompute its sha256 and the application hash with the salt
// (from the applicant's receipt, or pasted) and compare with the application's on-chain hash,
// saying clearly whether they match and, if not, why. Read-only: no wallet needed. With
// several boards, the receipt's chain says which board to check against (or, without a
// receipt, the chain picked).

import type { Address, Hex } from "viem";
import { boardOn, routeBoard, servedBoards, type Board, type Boards } from "../boards";
import { h, replace } from "../dom";
import { statusLabel } from "../format";
import { gql } from "../graphql";
import type { View } from "../router";
import { applicationHash, documentHash, isBytes32 } from "../wallet/hash";
import { parseReceipt, type Receipt } from "../wallet/receipt";

interface OnChain {
  id: string;
  applicationHash: string;
  status: string;
  job: { id: string; title: string };
  applicant: { address: string };
}

const FIELDS = "id applicationHash status job { id title } applicant { address }";
const BY_ID = `query Verify($chainId: BigInt, $id: ID!) { application(chainId: $chainId, id: $id) { ${FIELDS} } }`;
const BY_COMMITMENT = `query Pending($chainId: BigInt, $job: ID!, $who: Address!) {
  applications(chainId: $chainId, where: { jobId: $job, applicant: $who }, first: 100) { nodes { ${FIELDS} } }
}`;

/** The verdict and the reasons behind it. */
interface Verdict {
  match: boolean;
  lines: string[];
}

/** Finds the application a verification is about on `board`: by id, else by a pending
 * receipt's commitment. */
async function findApplication(board: Board, id: string, receipt: Receipt | null): Promise<OnChain | null> {
  const chainId = board.chainId;
  const wanted = id || receipt?.applicationId;
  if (wanted) return (await gql<{ application: OnChain | null }>(BY_ID, { chainId, id: wanted })).application;
  if (!receipt) return null;
  const { applications } = await gql<{ applications: { nodes: OnChain[] } }>(BY_COMMITMENT, { chainId, job: receipt.jobId, who: receipt.applicant });
  return applications.nodes.find((a) => a.applicationHash === receipt.applicationHash) ?? applications.nodes[0] ?? null;
}

/** The board to check against: the receipt's (with several boards, whichever is on its chain),
 * else the chain picked; or why there is none. */
function boardFor(boards: Boards, receipt: Receipt | null, chain: string): Board | string {
  if (!receipt) return routeBoard(boards, chain) ?? `There is no board on chain ${chain} here.`;
  const board = boards.several ? boardOn(boards, String(receipt.chainId)) : boards.first;
  if (board && String(receipt.chainId) === board.chainId && receipt.board === board.contract.toLowerCase()) return board;
  if (boards.several) return `The receipt is for a board not served here: chain ${receipt.chainId}, board ${receipt.board}.`;
  const first = boards.first;
  return `The receipt is for another board: chain ${receipt.chainId}, board ${receipt.board}; this board is chain ${first.chainId}, ${first.contract.toLowerCase()}.`;
}

async function check(boards: Boards, document: File, receipt: Receipt | null, saltText: string, id: string, chain: string): Promise<Verdict> {
  const salt = (saltText.trim() || receipt?.salt || "") as Hex;
  if (!isBytes32(salt)) return { match: false, lines: ["Give the salt: pick the applicant's receipt, or paste the salt (0x and 64 hex digits)."] };
  if (!id && !receipt) return { match: false, lines: ["Give the application id, or pick the applicant's receipt."] };
  const found = boardFor(boards, receipt, chain);
  if (typeof found === "string") return { match: false, lines: [found] };
  const board = found.contract.toLowerCase();
  const application = await findApplication(found, id, receipt);
  if (!application) return { match: false, lines: [`The board has no application ${id ? `#${id}` : "matching the receipt"}.`] };
  const docHash = await documentHash(await document.arrayBuffer());
  const computed = applicationHash({
    chainId: BigInt(found.chainId),
    board: board as Address,
    jobId: BigInt(application.job.id),
    applicant: application.applicant.address as Address,
    salt,
    documentHash: docHash,
  });
  const facts = [
    `Application #${application.id} to "${application.job.title}" (job #${application.job.id}) from ${application.applicant.address}, status ${statusLabel(application.status)}.`,
    `On-chain hash: ${application.applicationHash}`,
    `Computed hash: ${computed}`,
    `Document sha256: ${docHash}`,
  ];
  if (computed === application.applicationHash) {
    return { match: true, lines: ["This document and salt give the application's on-chain hash: it is the document the applicant committed to.", ...facts] };
  }
  let why = "The document or the salt is not the one the applicant committed to.";
  if (receipt && receipt.documentHash !== docHash) why = `Wrong document: its sha256 differs from the one in the receipt (${receipt.documentHash}).`;
  else if (receipt && saltText.trim() && saltText.trim().toLowerCase() !== receipt.salt) why = "Wrong salt: the pasted salt differs from the receipt's.";
  else if (receipt && receipt.applicationHash !== application.applicationHash) why = "The receipt belongs to another application than this one.";
  else if (receipt && receipt.applicant !== application.applicant.address.toLowerCase()) why = "The receipt is from another applicant.";
  return { match: false, lines: [why, ...facts] };
}

/** /verify: check a received document (and receipt or salt) against the chain. */
export const verifyView: View = async ({ query }) => {
  const boards = await servedBoards();
  // Without a receipt nothing says which chain the application is on: with several boards the
  // reader picks it (a link from an application list gives it as `?chain=`).
  const chainInput = boards.several
    ? h(
        "select",
        { id: "verify-chain" },
        boards.all.map((board) => h("option", { value: board.chainId, selected: board.chainId === query.get("chain") }, `${board.name} (chain ${board.chainId})`)),
      )
    : null;
  const documentInput = h("input", { type: "file", id: "verify-document", required: true });
  const receiptInput = h("input", { type: "file", id: "verify-receipt", accept: ".json,application/json" });
  const saltInput = h("input", { type: "text", id: "verify-salt", autocomplete: "off", spellcheck: "false", placeholder: "0x…" });
  const idInput = h("input", { type: "text", id: "verify-id", inputmode: "numeric", value: query.get("application") ?? "" });
  const result = h("div", { class: "verdict", role: "status", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "primary" }, "Verify");
  const form = h(
    "form",
    { class: "card stack verify-form" },
    h("div", { class: "field" }, h("label", { for: documentInput.id }, "The document the applicant sent"), documentInput),
    h("div", { class: "field" }, h("label", { for: receiptInput.id }, "Their receipt (.jobboard.json)"), receiptInput, h("p", { class: "hint" }, "It holds the salt and, once mined, the application id.")),
    h(
      "details",
      null,
      h("summary", null, "No receipt? Paste the salt and the application id"),
      h("div", { class: "field" }, h("label", { for: saltInput.id }, "Salt"), saltInput),
      h("div", { class: "field" }, h("label", { for: idInput.id }, "Application id"), idInput),
      chainInput && h("div", { class: "field" }, h("label", { for: chainInput.id }, "Chain"), chainInput),
    ),
    h("div", { class: "row" }, button),
  );
  if (idInput.value) form.querySelector("details")?.setAttribute("open", "");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const document = documentInput.files?.[0];
    if (!document) return void replace(result, h("p", { class: "field-error" }, "Pick the document first."));
    button.disabled = true;
    replace(result, h("p", { class: "muted" }, "Checking…"));
    try {
      const receiptFile = receiptInput.files?.[0];
      const receipt = receiptFile ? parseReceipt(await receiptFile.text()) : null;
      const verdict = await check(boards, document, receipt, saltInput.value, idInput.value.trim(), chainInput?.value ?? boards.first.chainId);
      replace(
        result,
        h(
          "div",
          { class: verdict.match ? "notice verdict-match" : "error-box verdict-mismatch" },
          h("p", { class: "verdict-title" }, h("strong", null, verdict.match ? "Match" : "No match")),
          verdict.lines.map((line) => h("p", { class: line.includes("0x") ? "mono" : undefined }, line)),
        ),
      );
    } catch (error) {
      replace(result, h("div", { class: "error-box" }, `Could not verify: ${(error as Error).message}`));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "section",
    { class: "stack" },
    h("h1", null, "Verify a document"),
    h("p", { class: "hint" }, "Check that a document an applicant sent you is the one they committed to on-chain. Nothing is uploaded: the check runs in your browser."),
    form,
    result,
  );
};
