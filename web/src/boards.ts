// The boards the API serves, one per chain, and how the page names them and links to their
// jobs. With one board the page looks as it always did (no chain badges, no chain filter,
// `/jobs/<id>`); with several, every job and application carries its chain, and a job's URL
// names it (`/jobs/<chainId>/<id>`; the old form means the first board).

import { h } from "./dom";
import { gql } from "./graphql";

/** A board the API serves. */
export interface Board {
  chainId: string;
  contract: string;
  /** Its name in the indexer's boards file (the chain id when it was given by flags). */
  name: string;
}

/** Every board served, and which one a URL without a chain means. */
export interface Boards {
  /** The API's first board (`_meta` without `chainId`): what `/jobs/<id>` means. */
  first: Board;
  /** Every board served, by chain id. */
  all: Board[];
  /** More than one: the page shows chain badges, the chain filter and chains in URLs. */
  several: boolean;
}

interface MetaAnswer {
  _meta: { chainId: string; contract: string; boards: (Board & { served: boolean })[] };
}

const BOARDS = "{ _meta { chainId contract boards { chainId contract name served } } }";

let boardsPromise: Promise<Boards> | null = null;

/** The boards this API serves (asked once per page load; they change only when it restarts).
 * `_meta.boards` lists every board of the database, so only those marked `served` count; an
 * indexer too old to report boards leaves the first board alone. */
export function servedBoards(): Promise<Boards> {
  if (!boardsPromise) {
    boardsPromise = gql<MetaAnswer>(BOARDS).then(({ _meta }) => {
      const listed = _meta.boards.filter((board) => board.served).map(({ chainId, contract, name }) => ({ chainId, contract, name }));
      const first = listed.find((board) => board.chainId === _meta.chainId) ?? { chainId: _meta.chainId, contract: _meta.contract, name: _meta.chainId };
      const all = listed.some((board) => board.chainId === first.chainId) ? listed : [first, ...listed];
      return { first, all, several: all.length > 1 };
    });
    boardsPromise.catch(() => (boardsPromise = null));
  }
  return boardsPromise;
}

/** The board on `chainId`, if the API serves one there. */
export function boardOn(boards: Boards, chainId: string): Board | undefined {
  return boards.all.find((board) => board.chainId === chainId);
}

/** The board a route means: the one its `chain` parameter names, or the first board when the
 * URL has none (links from before the page knew chains). Undefined for a chain not served. */
export function routeBoard(boards: Boards, chain: string | undefined | null): Board | undefined {
  return chain ? boardOn(boards, chain) : boards.first;
}

/** How a chain reads on a badge: its board's name, or its id. */
export function chainLabel(boards: Boards, chainId: string): string {
  return boardOn(boards, chainId)?.name ?? `chain ${chainId}`;
}

/** A job's page (`rest`: "edit", "applications"): `/jobs/<id>` with one board, as links
 * always were; `/jobs/<chainId>/<id>` with several, since ids repeat on every chain. */
export function jobPath(boards: Boards, chainId: string, id: string, rest = ""): string {
  const job = boards.several ? `/jobs/${encodeURIComponent(chainId)}/${encodeURIComponent(id)}` : `/jobs/${encodeURIComponent(id)}`;
  return rest ? `${job}/${rest}` : job;
}

/** `path` with `?chain=` added when several boards are served (an employer's page, verify). */
export function withChain(boards: Boards, path: string, chainId: string): string {
  if (!boards.several) return path;
  const [base, search = ""] = path.split("?", 2) as [string, string?];
  const query = new URLSearchParams(search);
  query.set("chain", chainId);
  return `${base}?${query}`;
}

/** A small badge naming the chain of a job or application; nothing with one board. */
export function chainBadge(boards: Boards, chainId: string): HTMLElement | null {
  if (!boards.several) return null;
  return h("span", { class: "chain-badge", "data-testid": "chain-badge", "data-chain-id": chainId, title: `Chain ${chainId}` }, chainLabel(boards, chainId));
}

/** What a page about a chain this API does not serve shows (a mistyped or stale link). */
export function noBoard(chain: string | undefined): HTMLElement {
  return h(
    "section",
    { class: "empty", "data-testid": "no-board" },
    h("h1", null, "No such board"),
    h("p", null, `There is no board on chain ${chain ?? "(none given)"} here: the link may be wrong.`),
    h("p", null, h("a", { href: "/" }, "See the open jobs")),
  );
}

/** A page's heading with the chain's badge beside it when several boards are served (the
 * heading alone otherwise, as the page always was). */
export function headingOnChain(boards: Boards, chainId: string, heading: HTMLElement): HTMLElement {
  return boards.several ? h("div", { class: "row heading-row" }, heading, chainBadge(boards, chainId)) : heading;
}
