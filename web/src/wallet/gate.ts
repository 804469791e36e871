// What a wallet view shows before its content: "connect your wallet" when there is none, the
// offer to switch when the wallet is on another chain, then the content for the account. It
// renders again when the account or chain changes, until the view's signal aborts.

import type { Address } from "viem";
import { h, replace, type Child } from "../dom";
import { boardChainId, chainName, switchToBoard, SwitchError } from "./chain";
import { onWalletChange, restoreWallet, walletState, type WalletState } from "./connection";
import { chooseAndConnect } from "./picker";

/** A button that asks the wallet to switch to the board's chain; a refusal shows in `message`. */
export function switchButton(state: WalletState, boardId: number, message: HTMLElement): HTMLButtonElement {
  const button = h("button", { type: "button", class: "primary" }, `Switch to ${chainName(boardId)}`);
  button.addEventListener("click", async () => {
    if (!state.provider) return;
    button.disabled = true;
    replace(message);
    try {
      await switchToBoard(state.provider);
    } catch (error) {
      replace(message, error instanceof SwitchError ? error.message : String(error));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** The wrong-chain notice with its switch button. */
export function wrongChain(state: WalletState, boardId: number): HTMLElement {
  const message = h("p", { class: "switch-message", role: "status" });
  return h(
    "div",
    { class: "notice wrong-chain" },
    h("p", null, `Your wallet is on ${chainName(state.chainId ?? 0)}; this board is on ${chainName(boardId)} (chain id ${boardId}).`),
    switchButton(state, boardId, message),
    message,
  );
}

/** A notice asking to connect, with the button. */
export function connectPrompt(why: string): HTMLElement {
  const message = h("p", { class: "switch-message", role: "status" });
  const button = h("button", { type: "button", class: "primary" }, "Connect wallet");
  button.addEventListener("click", () => void chooseAndConnect(message));
  return h("div", { class: "notice connect-prompt" }, h("p", null, why), button, message);
}

/** A container showing `content(account)` once a wallet on the board's chain is connected. */
export function walletGate(
  signal: AbortSignal,
  why: string,
  content: (account: Address, signal: AbortSignal) => Child | Promise<Child>,
): HTMLElement {
  const host = h("div", { class: "wallet-gate" });
  let inner: AbortController | null = null;
  let shown: string | null = null;
  const render = async () => {
    const state = walletState();
    const boardId = await boardChainId();
    const key = `${state.account}:${state.chainId === boardId}`;
    if (key === shown) return;
    shown = key;
    inner?.abort();
    inner = new AbortController();
    signal.addEventListener("abort", () => inner?.abort(), { once: true });
    if (!state.account) return replace(host, connectPrompt(why));
    if (state.chainId !== boardId) return replace(host, wrongChain(state, boardId));
    const own = inner.signal;
    replace(host, h("p", { class: "loading" }, "Loading…"));
    try {
      const node = await content(state.account, own);
      if (!own.aborted) replace(host, node);
    } catch (error) {
      if (!own.aborted) replace(host, h("div", { class: "error-box", role: "alert" }, `This could not be loaded: ${(error as Error).message}`));
    }
  };
  void restoreWallet().then(render);
  onWalletChange(() => void render(), signal);
  return host;
}
