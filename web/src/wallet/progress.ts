// A transaction's progress on screen: "Confirm in your wallet" → "Sent" (with the hash) →
// "Confirmed" → done, or why it failed. A live region, so screen readers hear each step.

import type { TransactionReceipt } from "viem";
import type { Board } from "../boards";
import { h, replace } from "../dom";
import { shortAddress } from "../format";
import { explain, type Failure } from "./errors";
import { NotSentError, send, type Call, type Stage } from "./transactions";

/** The element that shows one transaction's progress, and its outcome. */
export interface TxStatus {
  element: HTMLElement;
  show(stage: Stage): void;
  fail(failure: Failure): void;
  clear(): void;
}

function hash(value: string): HTMLElement {
  return h("code", { class: "tx-hash", title: value }, shortAddress(value));
}

/** A fresh, empty progress line (`role=status`). */
export function txStatus(): TxStatus {
  const element = h("div", { class: "tx-status", role: "status", "aria-live": "polite" });
  const set = (kind: string, ...children: (Node | string)[]) => {
    element.className = `tx-status tx-${kind}`;
    replace(element, ...children);
  };
  return {
    element,
    show(stage) {
      switch (stage.step) {
        case "switching":
          return set("pending", h("span", { class: "spinner", "aria-hidden": "true" }), `Switch your wallet to ${stage.chain}…`);
        case "checking":
          return set("pending", h("span", { class: "spinner", "aria-hidden": "true" }), "Checking with the board…");
        case "wallet":
          return set("pending", h("span", { class: "spinner", "aria-hidden": "true" }), "Confirm in your wallet…");
        case "sent":
          return set("pending", h("span", { class: "spinner", "aria-hidden": "true" }), "Sent ", hash(stage.hash), "; waiting for confirmation…");
        case "confirmed":
          return set("pending", h("span", { class: "spinner", "aria-hidden": "true" }), `Confirmed in block ${stage.block}; updating the board…`);
        case "indexed":
          return set("done", `Done: confirmed in block ${stage.block} `, hash(stage.hash), ".");
      }
    },
    fail(failure) {
      set(failure.kind === "cancelled" ? "cancelled" : "failed", failure.message);
      element.setAttribute("role", failure.kind === "cancelled" ? "status" : "alert");
    },
    clear() {
      element.className = "tx-status";
      element.setAttribute("role", "status");
      replace(element);
    },
  };
}

/** Sends `call` to `board` (switching the wallet to its chain if need be), showing its
 * progress in `status`; the receipt once indexed, or null after showing why it failed (nothing
 * changed then). Buttons in `disable` are off meanwhile. */
export async function runTransaction(
  call: Call,
  board: Board,
  status: TxStatus,
  disable: HTMLButtonElement[] = [],
): Promise<TransactionReceipt | null> {
  status.element.setAttribute("role", "status");
  const before = disable.map((button) => button.disabled);
  for (const button of disable) button.disabled = true;
  try {
    return await send(call, board, (stage) => status.show(stage));
  } catch (error) {
    status.fail(error instanceof NotSentError ? { kind: "failed", message: error.message } : explain(error));
    return null;
  } finally {
    disable.forEach((button, i) => (button.disabled = before[i] ?? false));
  }
}
