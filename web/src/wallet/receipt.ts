// The application receipt, byte for byte as the CLI writes it (src/actions/receipt.rs:
// serde_json pretty-printed, camelCase, ids as decimal strings, lowercase hex, a final
// newline), so `jobboard application verify` finds it beside the document and accepts it.

import type { Address, Hex } from "viem";
import { isBytes32 } from "./hash";

/** What a receipt holds; the last four are set once the application is mined. */
export interface Receipt {
  status: "pending" | "mined";
  chainId: number;
  board: Address;
  jobId: string;
  applicationId?: string;
  applicant: Address;
  salt: Hex;
  documentHash: Hex;
  applicationHash: Hex;
  txHash?: Hex;
  block?: number;
}

/** The receipt file's text, keys in the CLI's order, absent optional keys left out. */
export function encodeReceipt(receipt: Receipt): string {
  const ordered = {
    status: receipt.status,
    chainId: receipt.chainId,
    board: receipt.board.toLowerCase(),
    jobId: receipt.jobId,
    applicationId: receipt.applicationId,
    applicant: receipt.applicant.toLowerCase(),
    salt: receipt.salt.toLowerCase(),
    documentHash: receipt.documentHash.toLowerCase(),
    applicationHash: receipt.applicationHash.toLowerCase(),
    txHash: receipt.txHash?.toLowerCase(),
    block: receipt.block,
  };
  // JSON.stringify drops undefined members, as serde's skip_serializing_if does.
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** The file name the CLI gives the first receipt of `documentName`. */
export function receiptFileName(documentName: string): string {
  return `${documentName}.jobboard.json`;
}

/** Reads a receipt a person picked; throws with a sentence saying what is wrong with it. */
export function parseReceipt(text: string): Receipt {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error("the receipt is not JSON");
  }
  if (typeof value !== "object" || value === null) throw new Error("the receipt is not a JSON object");
  const r = value as Record<string, unknown>;
  const decimal = (key: string, optional = false): string | undefined => {
    const v = r[key];
    if (v === undefined && optional) return undefined;
    if ((typeof v === "number" && Number.isSafeInteger(v) && v >= 0) || (typeof v === "string" && /^\d+$/.test(v))) {
      return String(v);
    }
    throw new Error(`the receipt's ${key} is not a decimal id`);
  };
  const hex32 = (key: string): Hex => {
    const v = r[key];
    if (typeof v !== "string" || !isBytes32(v)) throw new Error(`the receipt's ${key} is not 0x and 64 hex digits`);
    return v.toLowerCase() as Hex;
  };
  const address = (key: string): Address => {
    const v = r[key];
    if (typeof v !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(v)) throw new Error(`the receipt's ${key} is not an address`);
    return v.toLowerCase() as Address;
  };
  const status = r.status;
  if (status !== "pending" && status !== "mined") throw new Error('the receipt\'s status is not "pending" or "mined"');
  const chainId = r.chainId;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new Error("the receipt's chainId is not a chain id");
  }
  const receipt: Receipt = {
    status,
    chainId,
    board: address("board"),
    jobId: decimal("jobId") ?? "",
    applicant: address("applicant"),
    salt: hex32("salt"),
    documentHash: hex32("documentHash"),
    applicationHash: hex32("applicationHash"),
  };
  const applicationId = decimal("applicationId", true);
  if (applicationId !== undefined) receipt.applicationId = applicationId;
  if (typeof r.txHash === "string") receipt.txHash = hex32("txHash");
  if (typeof r.block === "number") receipt.block = r.block;
  return receipt;
}
