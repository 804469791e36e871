// The list's filters, search and ordering live in the URL's query string, so a reload or a
// shared link shows the same jobs. This module maps that string to the API's arguments and
// back; it is pure so its rules are unit-tested.

/** Which job states the list shows. */
export type StatusChoice = "open" | "closed" | "expired" | "any";

/** The orderings the API has (JobOrderBy), by their URL names. */
export type SortChoice = "relevance" | "newest" | "oldest" | "pay" | "deadline" | "applications";

/** What the reader asked for, as the URL holds it. */
export interface JobSearch {
  /** Full-text search. */
  q: string;
  status: StatusChoice;
  /** Every one must be on the job. */
  tags: string[];
  /** Text the location contains. */
  location: string;
  /** Remote jobs (with a location: that place or remote). */
  remote: boolean;
  /** Minimum pay, decimal digits ("" for none). */
  pay: string;
  sort: SortChoice;
  /** One chain's jobs only, by chain id ("" for every chain the API serves). */
  chain: string;
}

/** A JobFilter input, as far as the list builds one. */
export interface JobFilter {
  status?: string;
  tags_has?: string;
  location_contains?: string;
  salaryMin_gte?: string;
  id_in?: string[];
  and?: JobFilter[];
  or?: JobFilter[];
}

/** The `jobs` field's arguments besides paging. */
export interface JobSearchVariables {
  /** Null: every chain's jobs, merged. */
  chainId: string | null;
  where: JobFilter | null;
  search: string | null;
  orderBy: string | null;
}

const STATUSES: readonly StatusChoice[] = ["open", "closed", "expired", "any"];

/** URL name → JobOrderBy, in the order the sort menu lists them. */
export const SORTS: readonly (readonly [SortChoice, string, string])[] = [
  ["relevance", "RELEVANCE", "Best match"],
  ["newest", "NEWEST", "Newest"],
  ["oldest", "OLDEST", "Oldest"],
  ["pay", "SALARY_HIGH_TO_LOW", "Highest pay"],
  ["deadline", "DEADLINE_SOONEST", "Deadline soonest"],
  ["applications", "MOST_APPLICATIONS", "Most applications"],
];

/** The largest BigInt the API takes (uint64). */
const MAX_PAY = (1n << 64n) - 1n;

/** The API's own ordering when none is asked for: relevance when searching, else newest. */
export function defaultSort(q: string): SortChoice {
  return q.trim() ? "relevance" : "newest";
}

/** "120,000" or "120 000" → "120000"; null when it is not a whole number the API accepts. */
export function parsePay(text: string): string | null {
  const digits = text.replace(/[\s,._']/g, "");
  if (!/^\d{1,20}$/.test(digits)) return null;
  const value = BigInt(digits);
  return value > 0n && value <= MAX_PAY ? value.toString() : null;
}

/** Tags as the API compares them: trimmed, lowercased, unique, from a comma-separated text. */
export function parseTags(text: string): string[] {
  const tags = text
    .split(",")
    .map((tag) => tag.trim().toLowerCase())
    .filter((tag) => tag !== "");
  return [...new Set(tags)];
}

/** Reads the reader's search from a query string (unknown values fall back to defaults); a
 * `chain` counts only if it is one of `chains`, the chains the reader may pick among. */
export function readSearch(query: URLSearchParams, chains: readonly string[] = []): JobSearch {
  const q = query.get("q") ?? "";
  const status = query.get("status") as StatusChoice | null;
  const sort = query.get("sort") as SortChoice | null;
  const chain = query.get("chain") ?? "";
  return {
    q,
    status: status && STATUSES.includes(status) ? status : "open",
    tags: parseTags(query.get("tags") ?? ""),
    location: query.get("location") ?? "",
    remote: query.get("remote") === "1",
    pay: parsePay(query.get("pay") ?? "") ?? "",
    sort: sort && SORTS.some(([name]) => name === sort) && (sort !== "relevance" || q.trim()) ? sort : defaultSort(q),
    chain: chains.includes(chain) ? chain : "",
  };
}

/** The query string of a search, leaving out what equals the default so URLs stay short. */
export function writeSearch(search: JobSearch): URLSearchParams {
  const query = new URLSearchParams();
  if (search.q.trim()) query.set("q", search.q.trim());
  if (search.status !== "open") query.set("status", search.status);
  if (search.tags.length) query.set("tags", search.tags.join(","));
  if (search.location.trim()) query.set("location", search.location.trim());
  if (search.remote) query.set("remote", "1");
  const pay = parsePay(search.pay);
  if (pay) query.set("pay", pay);
  if (search.sort !== defaultSort(search.q)) query.set("sort", search.sort);
  if (search.chain) query.set("chain", search.chain);
  return query;
}

/** The `jobs` arguments that show exactly this search. */
export function searchVariables(search: JobSearch): JobSearchVariables {
  const parts: JobFilter[] = [];
  if (search.status !== "any") parts.push({ status: search.status.toUpperCase() });
  for (const tag of search.tags) parts.push({ tags_has: tag });
  const location = search.location.trim();
  if (location && search.remote) parts.push({ or: [{ location_contains: location }, { location_contains: "remote" }] });
  else if (location) parts.push({ location_contains: location });
  else if (search.remote) parts.push({ location_contains: "remote" });
  const pay = parsePay(search.pay);
  if (pay) parts.push({ salaryMin_gte: pay });
  const q = search.q.trim();
  const sort = search.sort === "relevance" && !q ? "newest" : search.sort;
  return {
    chainId: search.chain || null,
    where: combine(parts),
    search: q || null,
    orderBy: SORTS.find(([name]) => name === sort)?.[1] ?? null,
  };
}

/** One filter holding every part (AND); null for none. */
export function combine(parts: JobFilter[]): JobFilter | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0] ?? null;
  return { and: parts };
}
