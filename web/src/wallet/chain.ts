// The chains wallets are asked to be on: a chain's name for people, and the switch (or add)
// request when the wallet is on another chain than the board an action reads or writes.

import type { Board } from "../boards";
import { gql } from "../graphql";
import type { Eip1193Provider } from "./providers";

const NAMES: Record<number, string> = {
  1: "Ethereum",
  10: "OP Mainnet",
  8453: "Base",
  42161: "Arbitrum One",
  11155111: "Sepolia",
  31337: "Local dev chain",
};

/** A chain's name for people: "Sepolia", else the board's name on it (`boardName`), else
 * "chain 12345". */
export function chainName(chainId: number, boardName?: string): string {
  return NAMES[chainId] ?? boardName ?? `chain ${chainId}`;
}

/** JSON-RPC endpoints the board on `chainId` offers to wallets (`_meta(chainId:)
 * { publicRpcUrls }`; empty when the server does not offer any). */
export async function publicRpcUrls(chainId: string): Promise<string[]> {
  try {
    const data = await gql<{ _meta: { publicRpcUrls: string[] } }>(
      "query Rpc($chainId: BigInt) { _meta(chainId: $chainId) { chainId publicRpcUrls } }",
      { chainId },
    );
    return data._meta.publicRpcUrls;
  } catch {
    return [];
  }
}

/** Why a switch did not happen, in a sentence (the wallet's state is unchanged). */
export class SwitchError extends Error {
  override name = "SwitchError";
}

/** Asks the wallet to move to `chainId` (the chain of the board an action is for), adding it
 * first when the wallet does not know it (error 4902). A refusal becomes a [`SwitchError`]
 * with a calm sentence; `name` is how the page calls the chain. */
export async function switchToChain(provider: Eip1193Provider, chainId: string, name: string): Promise<void> {
  const id = Number(chainId);
  const hexId = `0x${id.toString(16)}`;
  const code = (error: unknown) => (error as { code?: unknown } | null)?.code;
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: hexId }] });
    return;
  } catch (error) {
    if (code(error) === 4001) throw new SwitchError("You declined the switch in your wallet; nothing changed.");
    if (code(error) !== 4902) {
      throw new SwitchError(`Your wallet could not switch to ${name}: ${(error as Error).message ?? String(error)}`);
    }
  }
  const rpcUrls = await publicRpcUrls(chainId);
  if (rpcUrls.length === 0) {
    throw new SwitchError(
      `Your wallet does not know ${name} (chain id ${id}), and this board offers no public RPC address: add the network in your wallet by hand, then switch to it.`,
    );
  }
  try {
    await provider.request({
      method: "wallet_addEthereumChain",
      params: [{ chainId: hexId, chainName: name, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls }],
    });
  } catch (error) {
    if (code(error) === 4001) throw new SwitchError("You declined adding the network in your wallet; nothing changed.");
    throw new SwitchError(`Your wallet could not add ${name}: ${(error as Error).message ?? String(error)}`);
  }
}

/** The name of a board's chain, for the wallet's prompts and the page's notices. */
export function boardChainName(board: Board): string {
  return chainName(Number(board.chainId), board.name);
}
