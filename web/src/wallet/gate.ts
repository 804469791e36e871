// What a wallet view shows before its content: "connect your wallet" when there is none, the
// offer to switch when the wallet is on another chain, then the content for the account. It
// renders again when the account or chain changes, until the view's signal aborts.

import type { Address } from "viem";
import type { Board } from "../boards";
import { h, replace, type Child } from "../dom";
import { boardChainName, chainName, switchToChain, SwitchError } from "./chain";
import { onWalletChange, restoreWallet, walletState, type WalletState } from "./connection";
import { chooseAndConnect } from "./picker";

/** A button that asks the wallet to switch to `board`'s chain; a refusal shows in `message`. */
export function switchButton(state: WalletState, board: Board, message: HTMLElement): HTMLButtonElement {
  const name = boardChainName(board);
  const button = h("button", { type: "button", class: "primary" }, `Switch to ${name}`);
  button.addEventListener("click", async () => {
    if (!state.provider) return;
    button.disabled = true;
    replace(message);
    try {
      await switchToChain(state.provider, board.chainId, name);
    } catch (error) {
      replace(message, error instanceof SwitchError ? error.message : String(error));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** The wrong-chain notice with its switch button. */
export function wrongChain(state: WalletState, board: Board): HTMLElement {
  const message = h("p", { class: "switch-message", role: "status" });
  return h(
    "div",
    { class: "notice wrong-chain" },
    h("p", null, `Your wallet is on ${chainName(state.chainId ?? 0)}; this board is on ${boardChainName(board)} (chain id ${board.chainId}).`),
    switchButton(state, board, message),
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

/** A container showing `content(account)` once a wallet is connected, and on `board`'s chain
 * when one is given (the board the view writes to); `null` takes any chain, for views over
 * several boards whose actions switch chains as they send. */
export function walletGate(
  signal: AbortSignal,
  why: string,
  content: (account: Address, signal: AbortSignal) => Child | Promise<Child>,
  board: Board | null,
): HTMLElement {
  const host = h("div", { class: "wallet-gate" });
  let inner: AbortController | null = null;
  let shown: string | null = null;
  const render = async () => {
    const state = walletState();
    const onChain = board === null || state.chainId === Number(board.chainId);
    const key = `${state.account}:${onChain}`;
    if (key === shown) return;
    shown = key;
    inner?.abort();
    inner = new AbortController();
    signal.addEventListener("abort", () => inner?.abort(), { once: true });
    if (!state.account) return replace(host, connectPrompt(why));
    if (board && !onChain) return replace(host, wrongChain(state, board));
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
