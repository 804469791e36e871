// The application-hash scheme (contract-spec, shared vectors in contracts/test/vectors):
// documentHash = sha256(document), applicationHash = keccak256(abi.encode(
// "jobboard.application.v1", chainId, board, jobId, applicant, salt, documentHash)). Computed
// in the browser so the document never leaves it.

import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

/** The scheme's domain separator, as the contract's APPLICATION_HASH_DOMAIN. */
export const APPLICATION_HASH_DOMAIN = "jobboard.application.v1";

/** What an application commits to. */
export interface Commitment {
  chainId: bigint;
  board: Address;
  jobId: bigint;
  applicant: Address;
  salt: Hex;
  documentHash: Hex;
}

/** Lowercase 0x-hex of `bytes`. */
export function toHex(bytes: Uint8Array): Hex {
  let hex = "0x";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex as Hex;
}

/** sha256 of a document's bytes (WebCrypto: fast, and nothing leaves the browser). */
export async function documentHash(bytes: ArrayBuffer | Uint8Array): Promise<Hex> {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>)));
}

/** 32 random bytes from the platform's CSPRNG: the salt that stops anyone confirming a guessed document. */
export function randomSalt(): Hex {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The commitment `applyTo` takes, exactly as the contract's `applicationHashOf` computes it. */
export function applicationHash(c: Commitment): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "string" },
        { type: "uint256" },
        { type: "address" },
        { type: "uint256" },
        { type: "address" },
        { type: "bytes32" },
        { type: "bytes32" },
      ],
      [APPLICATION_HASH_DOMAIN, c.chainId, c.board, c.jobId, c.applicant, c.salt, c.documentHash],
    ),
  );
}

/** Whether `text` is a 32-byte 0x-hex value (a salt or hash as a person pastes it). */
export function isBytes32(text: string): text is Hex {
  return /^0x[0-9a-fA-F]{64}$/.test(text);
}
