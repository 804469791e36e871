// My applications: the connected address's applications with their job, status and history,
// withdraw for the live ones, kept current by the activity subscription. With several boards,
// every chain's applications, each with its chain's badge; a withdraw is sent on its chain.

import type { Address } from "viem";
import { boardOn, chainBadge, jobPath, servedBoards, type Boards } from "../boards";
import { h, replace, toast } from "../dom";
import { date, relative, statusLabel } from "../format";
import { gql, subscribe } from "../graphql";
import type { View } from "../router";
import { walletGate } from "../wallet/gate";
import { runTransaction, txStatus } from "../wallet/progress";
import { fresh, waitForIndex } from "../wallet/transactions";

interface Change {
  status: string;
  timestamp: string;
  txHash: string;
}

interface MyApplication {
  chainId: string;
  id: string;
  status: string;
  submittedAt: string;
  applicationHash: string;
  job: { id: string; title: string; company: string; status: string };
  history: Change[];
}

// Without `chainId`: every board's applications, merged newest first.
const MINE = `query Mine($me: Address!) {
  applications(where: { applicant: $me }, first: 200) {
    totalCount
    nodes {
      chainId id status submittedAt applicationHash
      job { id title company status }
      history { status timestamp txHash }
    }
  }
}`;

const LIVE = `subscription Live($me: Address!) { activity(where: { address: $me }) { kind chainId blockNumber applicant } }`;

function badge(status: string, current = false): HTMLElement {
  return h("span", { class: `badge ${status.toLowerCase()}${current ? " current" : ""}` }, statusLabel(status));
}

function card(application: MyApplication, boards: Boards, reload: () => void): HTMLElement {
  const status = txStatus();
  const board = boardOn(boards, application.chainId);
  const live = board !== undefined && (application.status === "SUBMITTED" || application.status === "SHORTLISTED");
  const withdraw = h("button", { type: "button", class: "danger" }, "Withdraw");
  withdraw.addEventListener("click", async () => {
    if (!board) return;
    const receipt = await runTransaction({ functionName: "withdrawApplication", args: [BigInt(application.id)] }, board, status, [withdraw]);
    if (!receipt) return;
    toast(`Application #${application.id} withdrawn.`, "ok");
    reload();
  });
  return h(
    "li",
    { class: "card my-application", "data-application": application.id, "data-chain-id": application.chainId },
    h(
      "div",
      { class: "row spread" },
      h("h2", { class: "title" }, h("a", { href: jobPath(boards, application.chainId, application.job.id) }, application.job.title || "(untitled)")),
      badge(application.status, true),
    ),
    h(
      "p",
      { class: "muted" },
      chainBadge(boards, application.chainId),
      application.job.company ? `${application.job.company} · ` : "",
      `Application #${application.id}, submitted ${relative(application.submittedAt)} (${date(application.submittedAt)})`,
      application.job.status !== "OPEN" ? ` · job ${statusLabel(application.job.status).toLowerCase()}` : "",
    ),
    h(
      "details",
      null,
      h("summary", null, `History (${application.history.length})`),
      h(
        "ol",
        { class: "history" },
        application.history.map((change) =>
          h("li", null, badge(change.status), " ", h("time", { datetime: change.timestamp }, date(change.timestamp)), " ", h("code", { class: "tx-hash", title: change.txHash }, change.txHash.slice(0, 10) + "…")),
        ),
      ),
    ),
    live ? h("div", { class: "row" }, withdraw) : null,
    status.element,
  );
}

async function applications(boards: Boards, account: Address, signal: AbortSignal): Promise<Node> {
  const host = h("div", { class: "stack" });
  const load = async () => {
    const data = await gql<{ applications: { totalCount: number; nodes: MyApplication[] } }>(MINE, { me: account }, fresh(signal));
    if (signal.aborted) return;
    const { nodes, totalCount } = data.applications;
    replace(
      host,
      h("p", { class: "muted" }, `${totalCount} application${totalCount === 1 ? "" : "s"} from ${account}`),
      nodes.length === 0
        ? h("div", { class: "empty" }, h("p", null, "You have not applied to any job yet."), h("a", { href: "/" }, "Find a job"))
        : h("ul", { class: "plain stack" }, nodes.map((application) => card(application, boards, () => void load()))),
    );
  };
  await load();
  subscribe<{ activity: { chainId: string; blockNumber: string } }>(
    LIVE,
    { me: account },
    ({ activity }) => void waitForIndex({ chainId: activity.chainId, block: BigInt(activity.blockNumber) }).then(load),
    signal,
  );
  return host;
}

/** /me: the connected applicant's applications, on every board served. */
export const myApplicationsView: View = async ({ signal }) => {
  const boards = await servedBoards();
  return h(
    "section",
    { class: "stack" },
    h("h1", null, "My applications"),
    walletGate(
      signal,
      "Connect your wallet to see the applications you sent from it.",
      (account, own) => applications(boards, account, own),
      boards.several ? null : boards.first,
    ),
  );
};
