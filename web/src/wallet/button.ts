// The header's wallet slot: "Connect wallet", or the connected address with a menu to
// disconnect, and a switch offer when the wallet is on a chain no board here is on.

import { servedBoards } from "../boards";
import { h, replace } from "../dom";
import { shortAddress } from "../format";
import { chainName } from "./chain";
import { disconnect, onWalletChange, restoreWallet, walletState } from "./connection";
import { switchButton } from "./gate";
import { chooseAndConnect } from "./picker";

async function render(host: HTMLElement): Promise<void> {
  const state = walletState();
  const message = h("div", { class: "wallet-message", role: "status" });
  if (!state.account) {
    const button = h("button", { type: "button", class: "button primary wallet-connect" }, "Connect wallet");
    button.addEventListener("click", () => void chooseAndConnect(message));
    return replace(host, button, message);
  }
  const boards = await servedBoards();
  const menu = h("div", { class: "wallet-menu", hidden: true }, h("p", { class: "hint" }, `Connected with ${state.info?.name ?? "a wallet"}`));
  const toggle = h(
    "button",
    { type: "button", class: "button wallet-account", "aria-expanded": "false", "aria-haspopup": "true", title: state.account },
    h("span", { class: "visually-hidden" }, "Wallet "),
    shortAddress(state.account),
  );
  const close = () => {
    menu.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
  };
  toggle.addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    toggle.setAttribute("aria-expanded", String(!menu.hidden));
  });
  menu.addEventListener("click", (event) => {
    if ((event.target as Element | null)?.closest("a")) close();
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      close();
      toggle.focus();
    }
  });
  const copy = h("button", { type: "button" }, "Copy address");
  copy.addEventListener("click", () => {
    void navigator.clipboard?.writeText(state.account ?? "").then(() => replace(message, "Address copied."));
    close();
  });
  const leave = h("button", { type: "button" }, "Disconnect");
  leave.addEventListener("click", () => disconnect());
  menu.append(h("a", { href: "/me" }, "My applications"), h("a", { href: "/dashboard" }, "Dashboard"), copy, leave);
  // With several boards any of their chains is right; the switch offers the first board's.
  const wrong = !boards.all.some((board) => Number(board.chainId) === state.chainId)
    ? [h("span", { class: "badge wrong-network" }, `Wrong network: ${chainName(state.chainId ?? 0)}`), switchButton(state, boards.first, message)]
    : [];
  replace(host, h("div", { class: "wallet-connected" }, wrong, toggle, menu), message);
}

/** Fills the header's `#wallet` slot and keeps it in step with the wallet. */
export function mountWalletButton(host: HTMLElement): void {
  const update = () => void render(host).catch((error) => replace(host, h("span", { class: "muted" }, `Wallet unavailable: ${(error as Error).message}`)));
  update();
  onWalletChange(update);
  void restoreWallet();
}
