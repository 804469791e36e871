// The connected wallet: which provider, which account, which chain. One state for the whole
// page; the header button and the views listen to it, and it follows the wallet's own
// `accountsChanged` / `chainChanged` events. The chosen wallet's rdns is remembered so a
// reload reconnects silently (`eth_accounts` asks nothing of the user).

import type { Address } from "viem";
import { discoverWallets, type Discovered, type Eip1193Provider, type WalletInfo } from "./providers";

/** Where the wallet stands; `account` null means not connected. */
export interface WalletState {
  provider: Eip1193Provider | null;
  info: WalletInfo | null;
  account: Address | null;
  chainId: number | null;
}

const STORAGE_KEY = "jobboard.wallet";

let state: WalletState = { provider: null, info: null, account: null, chainId: null };
const listeners = new Set<(state: WalletState) => void>();
let detach: (() => void) | null = null;

function set(next: Partial<WalletState>): void {
  state = { ...state, ...next };
  for (const listener of listeners) listener(state);
}

/** The wallet's current state. */
export function walletState(): WalletState {
  return state;
}

/** Calls `listener` on every change until `signal` aborts (views pass their route signal). */
export function onWalletChange(listener: (state: WalletState) => void, signal?: AbortSignal): void {
  listeners.add(listener);
  signal?.addEventListener("abort", () => listeners.delete(listener), { once: true });
}

function parseChain(value: unknown): number | null {
  try {
    return Number(BigInt(value as string));
  } catch {
    return null;
  }
}

function firstAccount(value: unknown): Address | null {
  const first = Array.isArray(value) ? value[0] : undefined;
  return typeof first === "string" ? (first.toLowerCase() as Address) : null;
}

function follow(provider: Eip1193Provider): void {
  detach?.();
  const onAccounts = (accounts: unknown) => {
    const account = firstAccount(accounts);
    if (account) set({ account });
    else disconnect();
  };
  const onChain = (chainId: unknown) => set({ chainId: parseChain(chainId) });
  provider.on?.("accountsChanged", onAccounts as (value: never) => void);
  provider.on?.("chainChanged", onChain as (value: never) => void);
  detach = () => {
    provider.removeListener?.("accountsChanged", onAccounts as (value: never) => void);
    provider.removeListener?.("chainChanged", onChain as (value: never) => void);
  };
}

async function adopt(wallet: Discovered, accounts: unknown): Promise<boolean> {
  const account = firstAccount(accounts);
  if (!account) return false;
  const chainId = parseChain(await wallet.provider.request({ method: "eth_chainId" }));
  follow(wallet.provider);
  set({ provider: wallet.provider, info: wallet.info, account, chainId });
  return true;
}

/** Asks `wallet` for an account (the wallet shows its prompt) and remembers the choice. */
export async function connect(wallet: Discovered): Promise<void> {
  const accounts = await wallet.provider.request({ method: "eth_requestAccounts" });
  if (await adopt(wallet, accounts)) {
    try {
      localStorage.setItem(STORAGE_KEY, wallet.info.rdns);
    } catch {
      // Storage may be disabled; the connection still works for this page load.
    }
  }
}

/** Forgets the wallet (wallets have no standard "disconnect"; the page stops using it). */
export function disconnect(): void {
  detach?.();
  detach = null;
  try {
    localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing remembered then.
  }
  set({ provider: null, info: null, account: null, chainId: null });
}

let restoring: Promise<void> | null = null;

/** Reconnects, without a prompt, to the wallet chosen on an earlier visit; views await it so
 * a reloaded page shows the connected account's data at once. */
export function restoreWallet(): Promise<void> {
  if (!restoring) {
    restoring = (async () => {
      let rdns: string | null = null;
      try {
        rdns = localStorage.getItem(STORAGE_KEY);
      } catch {
        return;
      }
      if (!rdns) return;
      const wallet = (await discoverWallets()).find((candidate) => candidate.info.rdns === rdns);
      if (!wallet) return;
      try {
        await adopt(wallet, await wallet.provider.request({ method: "eth_accounts" }));
      } catch {
        // The wallet refused a silent reconnect; the user connects again by hand.
      }
    })();
  }
  return restoring;
}
