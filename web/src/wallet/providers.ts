// Finding the browser's wallets: EIP-6963 (each wallet announces itself, so several can live
// side by side), with the legacy `window.ethereum` as the fallback for wallets that do not.

/** An EIP-1193 provider: what every browser wallet exposes. */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
  on?(event: string, listener: (value: never) => void): unknown;
  removeListener?(event: string, listener: (value: never) => void): unknown;
}

/** How a wallet describes itself (EIP-6963 `EIP6963ProviderInfo`). */
export interface WalletInfo {
  uuid: string;
  name: string;
  icon: string;
  rdns: string;
}

/** A wallet found in the page. */
export interface Discovered {
  info: WalletInfo;
  provider: Eip1193Provider;
}

/** The rdns given to a wallet found only as `window.ethereum`. */
export const INJECTED_RDNS = "injected";

const announced = new Map<string, Discovered>();
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  window.addEventListener("eip6963:announceProvider", (event) => {
    const detail = (event as CustomEvent<Discovered>).detail;
    if (detail?.info?.uuid && typeof detail.provider?.request === "function") announced.set(detail.info.uuid, detail);
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
}

/** The wallets in the page: those that announced themselves (they answer within a moment of
 * the request), or `window.ethereum` alone when none did. */
export async function discoverWallets(): Promise<Discovered[]> {
  listen();
  // Announcements are synchronous answers to the request event; one macrotask lets any
  // late-loading extension answer too.
  await new Promise((resolve) => setTimeout(resolve, 50));
  if (announced.size > 0) return [...announced.values()];
  const injected = (window as unknown as { ethereum?: Eip1193Provider }).ethereum;
  if (injected && typeof injected.request === "function") {
    return [{ info: { uuid: INJECTED_RDNS, name: "Browser wallet", icon: "", rdns: INJECTED_RDNS }, provider: injected }];
  }
  return [];
}
