// Connecting: find the wallets, let the person pick one when there are several, and ask it
// for an account. Messages (no wallet, cancelled) go into an element the caller places.

import { h, replace } from "../dom";
import { connect } from "./connection";
import { discoverWallets, type Discovered } from "./providers";

async function connectTo(wallet: Discovered, message: HTMLElement): Promise<void> {
  replace(message, `Waiting for ${wallet.info.name}…`);
  try {
    await connect(wallet);
    replace(message);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    replace(
      message,
      code === 4001
        ? "You cancelled the connection in your wallet; nothing changed."
        : `${wallet.info.name} could not connect: ${(error as Error).message ?? String(error)}`,
    );
  }
}

/** Connects a wallet: the only one at once, or after the person picks among several (the
 * choice list appears in `message`). */
export async function chooseAndConnect(message: HTMLElement): Promise<void> {
  const wallets = await discoverWallets();
  const only = wallets[0];
  if (!only) {
    replace(message, "No browser wallet found. Install one (MetaMask, Rabby, Coinbase Wallet…) and reload the page.");
    return;
  }
  if (wallets.length === 1) return connectTo(only, message);
  const list = h(
    "ul",
    { class: "wallet-picker", "aria-label": "Choose a wallet" },
    wallets.map((wallet) => {
      const button = h(
        "button",
        { type: "button" },
        wallet.info.icon.startsWith("data:image/") ? h("img", { src: wallet.info.icon, alt: "", width: 20, height: 20 }) : null,
        wallet.info.name,
      );
      button.addEventListener("click", () => void connectTo(wallet, message));
      return h("li", null, button);
    }),
  );
  replace(message, list);
  list.querySelector("button")?.focus();
}
