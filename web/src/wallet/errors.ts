// What went wrong with a transaction, in a sentence: the wallet user cancelled (calm, nothing
// was sent), the contract refused with one of its custom errors (the same sentences as the
// CLI's src/actions/revert.rs, with the page's words for its fields), or something else.

import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError } from "viem";
import { STATUS_CODES } from "./abi";

/** How a failed action ended. */
export interface Failure {
  kind: "cancelled" | "reverted" | "failed";
  message: string;
}

/** The sentence a user cancelling in their wallet gets. */
export const CANCELLED = "You cancelled in your wallet; nothing was sent.";

const FIELDS = ["the title", "the company", "the location", "the tags", "the description", "the salary currency"];

function statusName(code: unknown): string {
  const status = STATUS_CODES[Number(code)];
  return status ? status.charAt(0) + status.slice(1).toLowerCase() : `status #${String(code)}`;
}

function time(seconds: unknown): string {
  const ms = Number(seconds) * 1000;
  const when = new Date(ms);
  return Number.isFinite(ms) && !Number.isNaN(when.getTime())
    ? when.toISOString().replace(/\.\d{3}Z$/, "Z")
    : `${String(seconds)} (unix seconds)`;
}

/** One of the board's custom errors, with its arguments, as a sentence a user can act on. */
export function describeRevert(name: string, args: readonly unknown[] = []): string {
  const [a, b, c] = args.map((arg) => String(arg));
  switch (name) {
    case "EmptyTitle":
      return "the title is empty: give the job a title";
    case "FieldTooLong":
      return `${FIELDS[Number(args[0])] ?? `posting field #${a}`} is ${b} bytes, over the board's limit of ${c} bytes`;
    case "SalaryCurrencyRequired":
      return `a salary (${a}..${b}) needs a currency`;
    case "SalaryRangeInverted":
      return `the minimum salary ${a} is above the maximum ${b}`;
    case "DeadlineNotInFuture":
      return `the deadline ${time(args[0])} is not in the future (the chain's time is ${time(args[1])})`;
    case "JobNotFound":
      return `job ${a} does not exist`;
    case "NotJobEmployer":
      return `you (${b}) are not the employer of job ${a} (employer is ${c})`;
    case "JobAlreadyClosed":
      return `job ${a} is closed`;
    case "JobExpired":
      return `job ${a} stopped taking applications at its deadline ${time(args[1])} (the chain's time is ${time(args[2])})`;
    case "EmployerCannotApply":
      return `you (${b}) posted job ${a}: an employer cannot apply to their own job`;
    case "ZeroApplicationHash":
      return "the application hash is zero";
    case "AlreadyApplied":
      return `you (${b}) already have application ${c} to job ${a}: withdraw it first (under My applications) to apply again`;
    case "ApplicationNotFound":
      return `application ${a} does not exist`;
    case "NotApplicant":
      return `you (${b}) are not the applicant of application ${a} (applicant is ${c})`;
    case "StatusNotSettableByEmployer":
      return `an employer cannot set the status ${statusName(args[0])}: only Shortlisted, Rejected or Hired`;
    case "InvalidStatusTransition": {
      const from = STATUS_CODES[Number(args[1])];
      const why =
        from === "REJECTED" || from === "HIRED" || from === "WITHDRAWN"
          ? ` (${statusName(args[1])} is final)`
          : from === "SHORTLISTED"
            ? " (a shortlisted application can only be rejected, hired or withdrawn)"
            : "";
      return `application ${a} is ${statusName(args[1])}; it cannot become ${statusName(args[2])}${why}`;
    }
    case "EmptyBatch":
      return "no application ids given";
    default:
      return `the board refused with ${name}`;
  }
}

function hasCode(error: unknown, code: number): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

/** Classifies any error a wallet action threw (viem's, the wallet's raw EIP-1193 one, or ours). */
export function explain(error: unknown): Failure {
  if (error instanceof BaseError) {
    if (error.walk((e) => e instanceof UserRejectedRequestError || hasCode(e, 4001))) {
      return { kind: "cancelled", message: CANCELLED };
    }
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      const data = revert.data;
      if (data?.errorName) {
        return { kind: "reverted", message: `The board refused: ${describeRevert(data.errorName, data.args ?? [])}.` };
      }
      return { kind: "reverted", message: `The board refused: ${revert.reason ?? "the transaction reverted"}.` };
    }
    return { kind: "failed", message: error.shortMessage || error.message };
  }
  if (hasCode(error, 4001)) return { kind: "cancelled", message: CANCELLED };
  return { kind: "failed", message: error instanceof Error ? error.message : String(error) };
}
