/// <reference types="node" />
// Receipts are byte-for-byte the CLI's format (src/actions/receipt.rs), and read back.

import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeReceipt, parseReceipt, receiptFileName, type Receipt } from "../src/wallet/receipt";

const pending: Receipt = {
  status: "pending",
  chainId: 31337,
  board: "0xB0B0b0B0b0b0B0b0b0b0B0b0b0B0B0B0b0b0B0b0",
  jobId: "7",
  applicant: "0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
  salt: `0x${"5a".repeat(32)}`,
  documentHash: `0x${"d0".repeat(32)}`,
  applicationHash: `0x${"aa".repeat(32)}`,
};

test("a pending receipt is serde_json's pretty output: key order, decimal ids, lowercase hex, final newline", () => {
  assert.equal(
    encodeReceipt(pending),
    `{
  "status": "pending",
  "chainId": 31337,
  "board": "0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0",
  "jobId": "7",
  "applicant": "0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
  "salt": "0x${"5a".repeat(32)}",
  "documentHash": "0x${"d0".repeat(32)}",
  "applicationHash": "0x${"aa".repeat(32)}"
}
`,
  );
});

test("a mined receipt puts applicationId after jobId and txHash, block last", () => {
  const mined = encodeReceipt({ ...pending, status: "mined", applicationId: "3", txHash: `0x${"77".repeat(32)}`, block: 12 });
  const keys = Object.keys(JSON.parse(mined));
  assert.deepEqual(keys, ["status", "chainId", "board", "jobId", "applicationId", "applicant", "salt", "documentHash", "applicationHash", "txHash", "block"]);
  assert.match(mined, /"applicationId": "3"/);
  assert.match(mined, /"block": 12\n}\n$/);
});

test("receipts read back, and what is wrong with a bad one is said", () => {
  assert.deepEqual(parseReceipt(encodeReceipt(pending)), { ...pending, board: pending.board.toLowerCase() });
  assert.equal(parseReceipt(JSON.stringify({ ...pending, jobId: 7, applicationId: 3 })).applicationId, "3");
  assert.throws(() => parseReceipt("nope"), /not JSON/);
  assert.throws(() => parseReceipt(JSON.stringify({ ...pending, salt: "0x12" })), /salt/);
  assert.throws(() => parseReceipt(JSON.stringify({ ...pending, status: "done" })), /status/);
  assert.equal(receiptFileName("cv.pdf"), "cv.pdf.jobboard.json");
});
