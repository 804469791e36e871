/// <reference types="node" />
// Reverts read as the CLI's sentences; a wallet rejection is calm; viem's errors are sorted.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ContractFunctionExecutionError, ContractFunctionRevertedError, encodeErrorResult, UserRejectedRequestError } from "viem";
import { jobBoardAbi } from "../src/wallet/abi";
import { CANCELLED, describeRevert, explain } from "../src/wallet/errors";

const caller = "0xcccccccccccccccccccccccccccccccccccccccc";
const employer = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

test("the custom errors read as revert.rs's sentences", () => {
  assert.equal(describeRevert("JobAlreadyClosed", [7n]), "job 7 is closed");
  assert.equal(describeRevert("NotJobEmployer", [7n, caller, employer]), `you (${caller}) are not the employer of job 7 (employer is ${employer})`);
  assert.equal(describeRevert("FieldTooLong", [0, 201n, 200n]), "the title is 201 bytes, over the board's limit of 200 bytes");
  assert.equal(describeRevert("InvalidStatusTransition", [3n, 3, 2]), "application 3 is Hired; it cannot become Rejected (Hired is final)");
  assert.equal(
    describeRevert("InvalidStatusTransition", [4n, 1, 1]),
    "application 4 is Shortlisted; it cannot become Shortlisted (a shortlisted application can only be rejected, hired or withdrawn)",
  );
  assert.match(describeRevert("AlreadyApplied", [7n, caller, 5n]), /already have application 5 to job 7: withdraw it first/);
  assert.equal(describeRevert("DeadlineNotInFuture", [0n, 1_800_000_000n]), "the deadline 1970-01-01T00:00:00Z is not in the future (the chain's time is 2027-01-15T08:00:00Z)");
});

test("every error in the ABI has its own sentence", () => {
  for (const item of jobBoardAbi) {
    if (item.type !== "error") continue;
    assert.doesNotMatch(describeRevert(item.name, [1n, caller, employer]), /refused with/, item.name);
  }
});

const args = [7n, `0x${"aa".repeat(32)}`] as const;

test("a wallet rejection is calm; a decoded revert is explained", () => {
  assert.deepEqual(explain({ code: 4001, message: "User rejected the request." }), { kind: "cancelled", message: CANCELLED });
  const rejected = new ContractFunctionExecutionError(new UserRejectedRequestError(new Error("no")), { abi: jobBoardAbi, functionName: "applyTo", args });
  assert.equal(explain(rejected).kind, "cancelled");

  const data = encodeErrorResult({ abi: jobBoardAbi, errorName: "AlreadyApplied", args: [7n, caller, 5n] });
  const reverted = new ContractFunctionExecutionError(new ContractFunctionRevertedError({ abi: jobBoardAbi, data, functionName: "applyTo" }), {
    abi: jobBoardAbi,
    functionName: "applyTo",
    args,
  });
  const failure = explain(reverted);
  assert.equal(failure.kind, "reverted");
  assert.match(failure.message, /^The board refused: you \(0xcc.*\) already have application 5 to job 7/i);
  assert.equal(explain(new Error("boom")).kind, "failed");
});
