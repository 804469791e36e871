// Sending a write to the board through the wallet: simulate first (a revert is explained
// before the wallet prompt), send, wait for the receipt, then wait for the index to hold that
// block (X-Min-Block), so the screen that follows shows the write. Each step is reported.

import { createClient, custom, defineChain, type Address, type Chain, type Hex, type TransactionReceipt } from "viem";
import { simulateContract, waitForTransactionReceipt, writeContract } from "viem/actions";
import type { Board } from "../boards";
import { ApiError, gql, type ChainBlock, type QueryOptions } from "../graphql";
import { jobBoardAbi } from "./abi";
import { boardChainName, chainName, publicRpcUrls, switchToChain, SwitchError } from "./chain";
import { walletState } from "./connection";
import type { Posting } from "./limits";
import type { Eip1193Provider } from "./providers";

/** A write the page can send: a function of the board with its arguments. */
export type Call =
  | { functionName: "postJob"; args: readonly [Posting] }
  | { functionName: "updateJob"; args: readonly [bigint, Posting] }
  | { functionName: "closeJob"; args: readonly [bigint] }
  | { functionName: "setApplicationStatus"; args: readonly [bigint, number] }
  | { functionName: "setApplicationStatusBatch"; args: readonly [readonly bigint[], number] }
  | { functionName: "applyTo"; args: readonly [bigint, Hex] }
  | { functionName: "withdrawApplication"; args: readonly [bigint] };

/** Where a transaction is. */
export type Stage =
  | { step: "switching"; chain: string }
  | { step: "checking" }
  | { step: "wallet" }
  | { step: "sent"; hash: Hex }
  | { step: "confirmed"; hash: Hex; block: bigint }
  | { step: "indexed"; hash: Hex; block: bigint };

/** A refusal by the page itself before anything reached the wallet (no account, wrong chain). */
export class NotSentError extends Error {
  override name = "NotSentError";
}

/** The newest block the page wrote in on each chain, and the newest write on any. */
const written = new Map<string, bigint>();
let lastWrite: ChainBlock | null = null;

/** The viem chain of `board`, so viem refuses to send when the wallet is elsewhere. (Here,
 * not in chain.ts: viem's chain definitions weigh ~100 KiB, and chain.ts is on the first page.) */
async function viemChain(board: Board): Promise<Chain> {
  return defineChain({
    id: Number(board.chainId),
    name: boardChainName(board),
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: await publicRpcUrls(board.chainId) } },
  });
}

/** Query options that read at least the page's own latest write (X-Min-Block), with `signal`:
 * the latest on `chainId`'s board for a view of one board, else the latest on any (a view over
 * every board can name one chain only; it is the one the reader just wrote to). */
export function fresh(signal?: AbortSignal, chainId?: string): QueryOptions {
  const options: QueryOptions = {};
  const block = chainId === undefined ? undefined : written.get(chainId);
  const at = chainId === undefined ? lastWrite : block === undefined ? null : { chainId, block };
  if (at) options.minBlock = at;
  if (signal) options.signal = signal;
  return options;
}

/** Waits until the index of `at.chainId` holds `at.block`; the server itself waits a bounded
 * time per request. */
export async function waitForIndex(at: ChainBlock): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await gql("query Synced($chainId: BigInt) { _meta(chainId: $chainId) { synced } }", { chainId: at.chainId }, { minBlock: at });
      if (at.block > (written.get(at.chainId) ?? -1n)) written.set(at.chainId, at.block);
      lastWrite = at;
      return;
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "NOT_YET_INDEXED" || attempt >= 10) throw error;
    }
  }
}

/** The chain the wallet is on now, asked of the wallet itself (its `chainChanged` event may
 * come after a switch resolves). */
async function walletChain(provider: Eip1193Provider): Promise<number | null> {
  try {
    return Number(BigInt((await provider.request({ method: "eth_chainId" })) as string));
  } catch {
    return null;
  }
}

/** Sends `call` to `board` from the connected wallet, asking the wallet to switch to the
 * board's chain first when it is elsewhere; reports each stage; resolves once the index holds
 * the transaction's block. Throws viem's errors (see errors.ts) or a [`NotSentError`]. */
export async function send(call: Call, board: Board, onStage: (stage: Stage) => void): Promise<TransactionReceipt> {
  const { provider, account, chainId } = walletState();
  if (!provider || !account) throw new NotSentError("Connect your wallet first; nothing was sent.");
  const chain = await viemChain(board);
  if (chainId !== chain.id) {
    onStage({ step: "switching", chain: chain.name });
    try {
      await switchToChain(provider, board.chainId, chain.name);
    } catch (error) {
      throw error instanceof SwitchError ? new NotSentError(error.message) : error;
    }
    const now = await walletChain(provider);
    if (now !== chain.id) {
      throw new NotSentError(`Your wallet is on ${chainName(now ?? 0)}; switch it to ${chain.name} first. Nothing was sent.`);
    }
  }
  const address = board.contract as Address;
  // A bare client with only the three actions used (not createPublicClient/createWalletClient,
  // whose decorators pull every action into the bundle).
  const client = createClient({ account, chain, transport: custom(provider), pollingInterval: 500 });
  onStage({ step: "checking" });
  const { request } = await simulateContract(client, { ...call, abi: jobBoardAbi, address, account, chain } as Parameters<
    typeof simulateContract
  >[1]);
  onStage({ step: "wallet" });
  const hash = await writeContract(client, request as Parameters<typeof writeContract>[1]);
  onStage({ step: "sent", hash });
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 500 });
  if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted in block ${receipt.blockNumber}`);
  onStage({ step: "confirmed", hash, block: receipt.blockNumber });
  await waitForIndex({ chainId: board.chainId, block: receipt.blockNumber });
  onStage({ step: "indexed", hash, block: receipt.blockNumber });
  return receipt;
}
