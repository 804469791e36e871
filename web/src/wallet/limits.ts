// The contract's posting rules (JobBoard.sol's MAX_* constants and _validatePosting), checked
// in the form before anything is sent, so a person fixes a field instead of paying for a
// revert. A unit test keeps these numbers equal to the contract's.

/** Byte limits of the posting's text fields (UTF-8 bytes, as the contract counts them). */
export const LIMITS = {
  title: 200,
  company: 100,
  location: 100,
  tags: 200,
  description: 4096,
  salaryCurrency: 12,
} as const;

/** The largest uint64: salaries and deadlines are uint64 on-chain. */
const UINT64_MAX = 2n ** 64n - 1n;

/** The posting's text fields: exactly the ones the byte limits cover. */
export type PostingText = { [field in keyof typeof LIMITS]: string };

/** The form's values as typed (salaries as text, the deadline as epoch milliseconds or null). */
export interface PostingInput extends PostingText {
  salaryMin: string;
  salaryMax: string;
  /** Milliseconds since the epoch; null: no deadline; NaN: not a valid time. */
  deadline: number | null;
}

/** The posting as the contract takes it. */
export interface Posting extends PostingText {
  salaryMin: bigint;
  salaryMax: bigint;
  deadline: bigint;
}

/** One sentence per field that breaks a rule. */
export type PostingErrors = Partial<Record<keyof PostingInput, string>>;

/** A string's length in UTF-8 bytes. */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Tags as the contract stores them: comma-separated, each trimmed, empty ones dropped. */
export function normalizeTags(text: string): string {
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean)
    .join(",");
}

function amount(text: string, label: string, errors: PostingErrors, key: "salaryMin" | "salaryMax"): bigint {
  const trimmed = text.trim().replace(/[_,\s]/g, "");
  if (!trimmed) return 0n;
  if (!/^\d+$/.test(trimmed)) {
    errors[key] = `${label} must be a whole number`;
    return 0n;
  }
  const value = BigInt(trimmed);
  if (value > UINT64_MAX) errors[key] = `${label} is too large`;
  return value;
}

/** Checks the form against the contract's rules at time `now` (ms); the posting when it passes. */
export function checkPosting(input: PostingInput, now: number): { posting: Posting | null; errors: PostingErrors } {
  const errors: PostingErrors = {};
  const tags = normalizeTags(input.tags);
  const text = {
    title: input.title.trim(),
    company: input.company.trim(),
    location: input.location.trim(),
    tags,
    description: input.description,
    salaryCurrency: input.salaryCurrency.trim(),
  };
  for (const key of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
    const length = byteLength(text[key]);
    if (length > LIMITS[key]) errors[key] = `${length} bytes, over the limit of ${LIMITS[key]} bytes`;
  }
  if (!text.title) errors.title = "A title is required";
  const salaryMin = amount(input.salaryMin, "The minimum", errors, "salaryMin");
  const salaryMax = amount(input.salaryMax, "The maximum", errors, "salaryMax");
  if ((salaryMin !== 0n || salaryMax !== 0n) && !text.salaryCurrency && !errors.salaryCurrency) {
    errors.salaryCurrency = "A salary needs a currency (e.g. USD)";
  }
  if (salaryMax !== 0n && salaryMin > salaryMax && !errors.salaryMin) {
    errors.salaryMin = "The minimum is above the maximum";
  }
  let deadline = 0n;
  if (input.deadline !== null) {
    if (Number.isNaN(input.deadline)) errors.deadline = "Not a valid date and time";
    else if (input.deadline <= now) errors.deadline = "The deadline must be in the future";
    else deadline = BigInt(Math.floor(input.deadline / 1000));
  }
  if (Object.keys(errors).length > 0) return { posting: null, errors };
  return { posting: { ...text, salaryMin, salaryMax, deadline }, errors };
}
