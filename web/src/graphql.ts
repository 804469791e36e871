// The page reads only through the board's public GraphQL API: queries over HTTP (with
// `X-Min-Block` to read its own writes) and subscriptions over graphql-transport-ws.

import { createClient, type Client } from "graphql-ws";

/** A GraphQL error answer, with the server's `extensions.code` (e.g. NOT_YET_INDEXED). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** A block on one chain: what a query waits for the index to hold. */
export interface ChainBlock {
  chainId: string;
  block: bigint;
}

/** Options of one query. */
export interface QueryOptions {
  /** Wait until the index of that chain holds this block (the block a transaction landed in). */
  minBlock?: ChainBlock;
  /** Aborts the request (views pass their route signal). */
  signal?: AbortSignal;
}

const ENDPOINT = "/graphql";

/** Runs a query and returns its `data`; a GraphQL error becomes an [`ApiError`]. Lookups
 * name their chain in their variables (see boards.ts): an API serving several chains needs it. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, options: QueryOptions = {}): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.minBlock) headers["x-min-block"] = `${options.minBlock.chainId}:${options.minBlock.block}`;
  const init: RequestInit = { method: "POST", headers, body: JSON.stringify({ query, variables }) };
  if (options.signal) init.signal = options.signal;
  const response = await fetch(ENDPOINT, init);
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`the board answered HTTP ${response.status}`, undefined);
  }
  const first = body.errors?.[0];
  if (first) throw new ApiError(first.message, first.extensions?.code);
  if (body.data === undefined) throw new ApiError(`the board answered HTTP ${response.status} without data`, undefined);
  return body.data;
}

let client: Client | null = null;

function wsClient(): Client {
  if (!client) {
    const url = new URL(ENDPOINT, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    client = createClient({ url: url.href, lazy: true, retryAttempts: Infinity, keepAlive: 20_000 });
  }
  return client;
}

/** Subscribes until `signal` aborts; `onData` gets each event's `data`. */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  signal: AbortSignal,
  onError: (error: unknown) => void = (error) => console.warn("subscription", error),
): void {
  const unsubscribe = wsClient().subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.data) onData(result.data as T);
      },
      error: onError,
      complete: () => {},
    },
  );
  signal.addEventListener("abort", () => unsubscribe(), { once: true });
}
