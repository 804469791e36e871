/// <reference types="node" />
// The page's ABI subset is the compiled contract's: same names, types and order.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { jobBoardAbi, STATUS_CODES, statusCode } from "../src/wallet/abi";

interface Item {
  type: string;
  name?: string;
  [key: string]: unknown;
}

/** Drops solc's internalType (not part of the ABI's encoding). */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([key]) => key !== "internalType").map(([key, v]) => [key, strip(v)]));
  }
  return value;
}

const artifact = (JSON.parse(readFileSync("contracts/artifacts/JobBoard.json", "utf8")) as { abi: Item[] }).abi;

test("every entry of the subset equals the artifact's", () => {
  for (const entry of jobBoardAbi) {
    const compiled = artifact.find((item) => item.type === entry.type && item.name === entry.name);
    assert.ok(compiled, `${entry.type} ${entry.name} is in the artifact`);
    assert.deepEqual(strip(compiled), strip(entry), `${entry.type} ${entry.name}`);
  }
});

test("every custom error of the contract is in the subset, so every revert decodes", () => {
  const errors = artifact.filter((item) => item.type === "error").map((item) => item.name);
  const ours = jobBoardAbi.filter((item) => item.type === "error").map((item) => item.name);
  assert.deepEqual([...ours].sort(), [...errors].sort());
});

test("status bytes follow the contract's enum", () => {
  assert.deepEqual(STATUS_CODES, ["SUBMITTED", "SHORTLISTED", "REJECTED", "HIRED", "WITHDRAWN"]);
  assert.equal(statusCode("REJECTED"), 2);
});
