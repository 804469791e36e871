/// <reference types="node" />
// The application hash, computed as the browser does, equals the shared vectors the contract
// and the CLI are tested against.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { Address, Hex } from "viem";
import { applicationHash, documentHash, isBytes32, randomSalt } from "../src/wallet/hash";

interface Vector {
  name: string;
  chainId: number;
  board: Address;
  jobId: string;
  applicant: Address;
  salt: Hex;
  document: Hex;
  documentHash: Hex;
  applicationHash: Hex;
}

const { vectors } = JSON.parse(readFileSync("contracts/test/vectors/application-hash.json", "utf8")) as { vectors: Vector[] };

test("the shared vectors' document and application hashes are reproduced", async () => {
  assert.ok(vectors.length >= 3);
  for (const v of vectors) {
    const bytes = Buffer.from(v.document.slice(2), "hex");
    const docHash = await documentHash(new Uint8Array(bytes));
    assert.equal(docHash, v.documentHash, `${v.name}: documentHash`);
    const hash = applicationHash({
      chainId: BigInt(v.chainId),
      board: v.board,
      jobId: BigInt(v.jobId),
      applicant: v.applicant,
      salt: v.salt,
      documentHash: docHash,
    });
    assert.equal(hash, v.applicationHash, `${v.name}: applicationHash`);
  }
});

test("any change to the commitment changes the hash", () => {
  const v = vectors[0];
  assert.ok(v);
  const base = { chainId: BigInt(v.chainId), board: v.board, jobId: BigInt(v.jobId), applicant: v.applicant, salt: v.salt, documentHash: v.documentHash };
  assert.notEqual(applicationHash({ ...base, chainId: 1n }), v.applicationHash);
  assert.notEqual(applicationHash({ ...base, jobId: base.jobId + 1n }), v.applicationHash);
});

test("salts are 32 fresh random bytes", () => {
  const a = randomSalt();
  const b = randomSalt();
  assert.ok(isBytes32(a) && isBytes32(b));
  assert.notEqual(a, b);
  assert.equal(a, a.toLowerCase());
});
