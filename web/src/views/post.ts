// Posting and editing a job: a form that checks the contract's limits as the employer types
// (byte counts, salary and deadline rules) with a live Markdown preview, then sends postJob or
// updateJob and opens the job once the index holds it.

import { parseEventLogs, type Address } from "viem";
import { headingOnChain, jobPath, noBoard, routeBoard, servedBoards, type Board, type Boards } from "../boards";
import { h, replace } from "../dom";
import { gql } from "../graphql";
import type { PostingFields } from "../posting";
import { navigate, type View } from "../router";
import { jobBoardAbi } from "../wallet/abi";
import { boardChainName } from "../wallet/chain";
import { walletState } from "../wallet/connection";
import { walletGate } from "../wallet/gate";
import { byteLength, checkPosting, LIMITS, type PostingErrors, type PostingInput } from "../wallet/limits";
import { runTransaction, txStatus, type TxStatus } from "../wallet/progress";
import { fresh } from "../wallet/transactions";

/** A job's current posting, as the edit form starts from it. */
interface JobPosting extends Omit<PostingFields, "deadline"> {
  id: string;
  status: string;
  employer: { address: string };
}

const JOB = `query Edit($chainId: BigInt, $id: ID!) {
  job(chainId: $chainId, id: $id) {
    id title company location tags description salaryCurrency salaryMin salaryMax deadlineUnix status
    employer { address }
  }
}`;

type Field = keyof PostingInput;

/** A Date as a datetime-local input's value (local time, minutes). */
function localInputValue(when: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}T${pad(when.getHours())}:${pad(when.getMinutes())}`;
}

/** Sends a checked posting; resolves to the path of the job to open, or null. */
type Send = (posting: NonNullable<ReturnType<typeof checkPosting>["posting"]>, status: TxStatus, submit: HTMLButtonElement) => Promise<string | null>;

/** The posting form; `onSend` sends the checked posting and resolves to the job page to open.
 * `first` goes above the fields (the chain to post on, when there is a choice). */
function postingForm(initial: Partial<Record<Field, string>>, submitLabel: string, onSend: Send, first: Node | null = null): HTMLFormElement {
  const inputs = {} as Record<Field, HTMLInputElement | HTMLTextAreaElement>;
  const errors = {} as Record<Field, HTMLElement>;
  const field = (name: Field, label: string, control: HTMLInputElement | HTMLTextAreaElement, hint?: string) => {
    control.id = `posting-${name}`;
    control.name = name;
    control.value = initial[name] ?? "";
    inputs[name] = control;
    const error = h("p", { class: "field-error", id: `posting-${name}-error`, "aria-live": "polite" });
    errors[name] = error;
    const hintId = `posting-${name}-hint`;
    control.setAttribute("aria-describedby", `${hintId} ${error.id}`);
    const limit = name in LIMITS ? LIMITS[name as keyof typeof LIMITS] : null;
    const hintNode = h("p", { class: "hint", id: hintId }, hint ?? "");
    if (limit !== null) {
      const count = () => {
        const text = hint ? `${hint} · ` : "";
        hintNode.textContent = `${text}${byteLength(control.value)} / ${limit} bytes`;
      };
      control.addEventListener("input", count);
      count();
    }
    return h("div", { class: `field field-${name}` }, h("label", { for: control.id }, label), control, hintNode, error);
  };
  const description = h("textarea", { rows: 12 });
  const preview = h("div", { class: "preview card", "aria-live": "off" });
  const showPreview = () => {
    const text = description.value;
    if (!text.trim()) {
      replace(preview, h("p", { class: "muted" }, "The preview of the description appears here."));
      return;
    }
    // The renderer loads with the first preview, not with the page.
    void import("../markdown").then(({ renderMarkdown }) => {
      if (description.value === text) replace(preview, renderMarkdown(text));
    });
  };
  description.addEventListener("input", showPreview);
  const status = txStatus();
  const submit = h("button", { type: "submit", class: "primary" }, submitLabel);
  const form = h(
    "form",
    { class: "stack posting-form", novalidate: true },
    first,
    field("title", "Title (required)", h("input", { type: "text", required: true, autocomplete: "off" })),
    h(
      "div",
      { class: "grid-2" },
      field("company", "Company", h("input", { type: "text", autocomplete: "organization" })),
      field("location", "Location", h("input", { type: "text" }), '"Remote" is a location'),
    ),
    field("tags", "Tags", h("input", { type: "text" }), "Comma-separated, e.g. rust, backend"),
    h(
      "div",
      { class: "grid-2 description" },
      field("description", "Description (Markdown)", description),
      h("div", { class: "field" }, h("p", { class: "label" }, "Preview"), preview),
    ),
    h(
      "fieldset",
      { class: "salary" },
      h("legend", null, "Salary (optional)"),
      h(
        "div",
        { class: "grid-3" },
        field("salaryCurrency", "Currency", h("input", { type: "text", autocomplete: "off" }), "e.g. USD"),
        field("salaryMin", "Minimum", h("input", { type: "text", inputmode: "numeric" })),
        field("salaryMax", "Maximum", h("input", { type: "text", inputmode: "numeric" })),
      ),
    ),
    field("deadline", "Deadline (optional)", h("input", { type: "datetime-local" }), "Your local time; the last moment applications are taken"),
    h("div", { class: "row" }, submit),
    status.element,
  );
  showPreview();

  const read = (): PostingInput => {
    const deadline = inputs.deadline.value;
    return {
      title: inputs.title.value,
      company: inputs.company.value,
      location: inputs.location.value,
      tags: inputs.tags.value,
      description: inputs.description.value,
      salaryCurrency: inputs.salaryCurrency.value,
      salaryMin: inputs.salaryMin.value,
      salaryMax: inputs.salaryMax.value,
      deadline: deadline ? new Date(deadline).getTime() : null,
    };
  };
  const show = (found: PostingErrors) => {
    for (const name of Object.keys(errors) as Field[]) {
      const message = found[name];
      errors[name].textContent = message ?? "";
      inputs[name].toggleAttribute("aria-invalid", Boolean(message));
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { posting, errors: found } = checkPosting(read(), Date.now());
    show(found);
    if (!posting) {
      const first = (Object.keys(inputs) as Field[]).find((name) => found[name]);
      if (first) inputs[first].focus();
      status.clear();
      return;
    }
    const path = await onSend(posting, status, submit);
    if (path) navigate(path);
  });
  return form;
}

/** Sends a checked posting to the board `board()` gives as postJob (no id) or updateJob. */
function sender(boards: Boards, board: () => Board, jobId: string | null): Send {
  return async (posting, status, submit) => {
    const to = board();
    if (jobId !== null) {
      const receipt = await runTransaction({ functionName: "updateJob", args: [BigInt(jobId), posting] }, to, status, [submit]);
      return receipt ? jobPath(boards, to.chainId, jobId) : null;
    }
    const receipt = await runTransaction({ functionName: "postJob", args: [posting] }, to, status, [submit]);
    if (!receipt) return null;
    const [event] = parseEventLogs({ abi: jobBoardAbi, eventName: "JobPosted", logs: receipt.logs });
    return event ? jobPath(boards, to.chainId, String(event.args.jobId)) : null;
  };
}

/** The form to post a job with, when several boards are served: a chain menu first (the
 * wallet's chain if a board is on it, else the first board's), then the posting. */
function postOnChain(boards: Boards): HTMLFormElement {
  const wallet = walletState().chainId;
  const initial = boards.all.find((board) => Number(board.chainId) === wallet) ?? boards.first;
  const chain = h(
    "select",
    { id: "posting-chain", name: "chain", "aria-describedby": "posting-chain-hint" },
    boards.all.map((board) => h("option", { value: board.chainId, selected: board === initial }, `${board.name} (chain ${board.chainId})`)),
  );
  const chosen = () => boards.all.find((board) => board.chainId === chain.value) ?? initial;
  const hint = h("p", { class: "hint", id: "posting-chain-hint" });
  const explain = () => (hint.textContent = `The job goes on ${boardChainName(chosen())}'s board; your wallet is asked to switch there if it is elsewhere.`);
  chain.addEventListener("change", explain);
  explain();
  const field = h("div", { class: "field field-chain" }, h("label", { for: chain.id }, "Chain"), chain, hint);
  return postingForm({}, "Post job", sender(boards, chosen, null), field);
}

/** /post: a new job from the connected wallet, on the one board or on the chain picked. */
export const postJobView: View = async ({ signal }) => {
  const boards = await servedBoards();
  return h(
    "section",
    { class: "stack" },
    h("h1", null, "Post a job"),
    h("p", { class: "hint" }, "The posting is public and permanent on-chain; you can update or close it later."),
    walletGate(
      signal,
      "Connect the wallet to post from: it becomes the job's employer.",
      () => (boards.several ? postOnChain(boards) : postingForm({}, "Post job", sender(boards, () => boards.first, null))),
      boards.several ? null : boards.first,
    ),
  );
};

async function editForm(boards: Boards, board: Board, id: string, account: Address, signal: AbortSignal): Promise<Node> {
  const { job } = await gql<{ job: JobPosting | null }>(JOB, { chainId: board.chainId, id }, fresh(signal, board.chainId));
  if (!job) return h("div", { class: "empty" }, h("p", null, `The board has no job #${id}.`));
  if (job.employer.address.toLowerCase() !== account) {
    return h("div", { class: "notice" }, h("p", null, `Only the job's employer (${job.employer.address}) can edit it; your wallet is ${account}.`));
  }
  if (job.status === "CLOSED") return h("div", { class: "notice" }, h("p", null, "This job is closed; a closed job cannot be edited."));
  const deadline = job.deadlineUnix ? new Date(Number(job.deadlineUnix) * 1000) : null;
  return postingForm(
    {
      title: job.title,
      company: job.company,
      location: job.location,
      tags: job.tags.join(", "),
      description: job.description,
      salaryCurrency: job.salaryCurrency,
      salaryMin: job.salaryMin ?? "",
      salaryMax: job.salaryMax ?? "",
      deadline: deadline && !Number.isNaN(deadline.getTime()) ? localInputValue(deadline) : "",
    },
    "Update job",
    sender(boards, () => board, id),
  );
}

/** /jobs/:chain/:id/edit (or /jobs/:id/edit on the first board): the job's employer replaces
 * its posting (pre-filled from the current one), sent on the job's chain. */
export const editJobView: View = async ({ params, signal }) => {
  const id = params.id ?? "";
  const boards = await servedBoards();
  const board = routeBoard(boards, params.chain);
  if (!board) return noBoard(params.chain);
  return h(
    "section",
    { class: "stack" },
    headingOnChain(boards, board.chainId, h("h1", null, `Edit job #${id}`)),
    h("p", null, h("a", { href: jobPath(boards, board.chainId, id) }, "Back to the job")),
    walletGate(signal, "Connect the wallet that posted this job to edit it.", (account, own) => editForm(boards, board, id, account, own), board),
  );
};
