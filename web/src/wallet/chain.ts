// The board's chain, as viem and wallets need it: a viem `Chain` built from `_meta.chainId`,
// and the switch (or add) request when the wallet is on another chain.

import { boardMeta, gql } from "../graphql";
import type { Eip1193Provider } from "./providers";

const NAMES: Record<number, string> = {
  1: "Ethereum",
  10: "OP Mainnet",
  8453: "Base",
  42161: "Arbitrum One",
  11155111: "Sepolia",
  31337: "Local dev chain",
};

/** A chain's name for people: "Sepolia", or "chain 12345". */
export function chainName(chainId: number): string {
  return NAMES[chainId] ?? `chain ${chainId}`;
}

/** The board's chain id, as a number (chain ids fit easily). */
export async function boardChainId(): Promise<number> {
  return Number((await boardMeta()).chainId);
}

/** JSON-RPC endpoints the board offers to wallets (`_meta.publicRpcUrls`; empty when the
 * server does not offer any). */
export async function publicRpcUrls(): Promise<string[]> {
  try {
    const data = await gql<{ _meta: { publicRpcUrls: string[] } }>("{ _meta { publicRpcUrls } }");
    return data._meta.publicRpcUrls;
  } catch {
    return [];
  }
}

/** Why a switch did not happen, in a sentence (the wallet's state is unchanged). */
export class SwitchError extends Error {
  override name = "SwitchError";
}

/** Asks the wallet to move to the board's chain, adding it first when the wallet does not know
 * it (error 4902). A refusal becomes a [`SwitchError`] with a calm sentence. */
export async function switchToBoard(provider: Eip1193Provider): Promise<void> {
  const id = await boardChainId();
  const hexId = `0x${id.toString(16)}`;
  const code = (error: unknown) => (error as { code?: unknown } | null)?.code;
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: hexId }] });
    return;
  } catch (error) {
    if (code(error) === 4001) throw new SwitchError("You declined the switch in your wallet; nothing changed.");
    if (code(error) !== 4902) {
      throw new SwitchError(`Your wallet could not switch to ${chainName(id)}: ${(error as Error).message ?? String(error)}`);
    }
  }
  const rpcUrls = await publicRpcUrls();
  if (rpcUrls.length === 0) {
    throw new SwitchError(
      `Your wallet does not know ${chainName(id)} (chain id ${id}), and this board offers no public RPC address: add the network in your wallet by hand, then switch to it.`,
    );
  }
  try {
    await provider.request({
      method: "wallet_addEthereumChain",
      params: [{ chainId: hexId, chainName: chainName(id), nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls }],
    });
  } catch (error) {
    if (code(error) === 4001) throw new SwitchError("You declined adding the network in your wallet; nothing changed.");
    throw new SwitchError(`Your wallet could not add ${chainName(id)}: ${(error as Error).message ?? String(error)}`);
  }
}
