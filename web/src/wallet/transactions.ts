// Sending a write to the board through the wallet: simulate first (a revert is explained
// before the wallet prompt), send, wait for the receipt, then wait for the index to hold that
// block (X-Min-Block), so the screen that follows shows the write. Each step is reported.

import { createClient, custom, defineChain, type Address, type Chain, type Hex, type TransactionReceipt } from "viem";
import { simulateContract, waitForTransactionReceipt, writeContract } from "viem/actions";
import { ApiError, boardMeta, gql, type QueryOptions } from "../graphql";
import { jobBoardAbi } from "./abi";
import { boardChainId, chainName, publicRpcUrls } from "./chain";
import { walletState } from "./connection";
import type { Posting } from "./limits";

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
  | { step: "checking" }
  | { step: "wallet" }
  | { step: "sent"; hash: Hex }
  | { step: "confirmed"; hash: Hex; block: bigint }
  | { step: "indexed"; hash: Hex; block: bigint };

/** A refusal by the page itself before anything reached the wallet (no account, wrong chain). */
export class NotSentError extends Error {
  override name = "NotSentError";
}

let lastWritten: bigint | null = null;

/** The viem chain of the board, so viem refuses to send when the wallet is elsewhere. (Here,
 * not in chain.ts: viem's chain definitions weigh ~100 KiB, and chain.ts is on the first page.) */
async function boardChain(): Promise<Chain> {
  const id = await boardChainId();
  return defineChain({
    id,
    name: chainName(id),
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: await publicRpcUrls() } },
  });
}

/** Query options that read at least the page's own latest write (X-Min-Block), with `signal`. */
export function fresh(signal?: AbortSignal): QueryOptions {
  const options: QueryOptions = {};
  if (lastWritten !== null) options.minBlock = lastWritten;
  if (signal) options.signal = signal;
  return options;
}

/** Waits until the index holds `block`; the server itself waits a bounded time per request. */
export async function waitForIndex(block: bigint): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await gql("{ _meta { synced } }", {}, { minBlock: block });
      if (lastWritten === null || block > lastWritten) lastWritten = block;
      return;
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "NOT_YET_INDEXED" || attempt >= 10) throw error;
    }
  }
}

/** Sends `call` from the connected wallet; reports each stage; resolves once the index holds
 * the transaction's block. Throws viem's errors (see errors.ts) or a [`NotSentError`]. */
export async function send(call: Call, onStage: (stage: Stage) => void): Promise<TransactionReceipt> {
  const { provider, account, chainId } = walletState();
  if (!provider || !account) throw new NotSentError("Connect your wallet first; nothing was sent.");
  const chain = await boardChain();
  if (chainId !== chain.id) {
    throw new NotSentError(
      `Your wallet is on ${chainName(chainId ?? 0)}; switch it to ${chainName(chain.id)} first. Nothing was sent.`,
    );
  }
  const address = (await boardMeta()).contract as Address;
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
  await waitForIndex(receipt.blockNumber);
  onStage({ step: "indexed", hash, block: receipt.blockNumber });
  return receipt;
}
