/// <reference types="node" />
// The form's limits equal the contract's constants, and the rules mirror _validatePosting.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { checkPosting, LIMITS, normalizeTags, type PostingInput } from "../src/wallet/limits";

const source = readFileSync("contracts/src/JobBoard.sol", "utf8");

function constant(name: string): number {
  const match = new RegExp(`uint256 public constant ${name} = (\\d+);`).exec(source);
  assert.ok(match?.[1], `${name} is in JobBoard.sol`);
  return Number(match[1]);
}

const valid: PostingInput = {
  title: "Engineer",
  company: "",
  location: "",
  tags: "",
  description: "",
  salaryCurrency: "",
  salaryMin: "",
  salaryMax: "",
  deadline: null,
};
const now = Date.UTC(2026, 0, 1);

test("the limits are JobBoard.sol's MAX_* constants", () => {
  assert.deepEqual(LIMITS, {
    title: constant("MAX_TITLE_LENGTH"),
    company: constant("MAX_COMPANY_LENGTH"),
    location: constant("MAX_LOCATION_LENGTH"),
    tags: constant("MAX_TAGS_LENGTH"),
    description: constant("MAX_DESCRIPTION_LENGTH"),
    salaryCurrency: constant("MAX_SALARY_CURRENCY_LENGTH"),
  });
});

test("lengths are counted in UTF-8 bytes", () => {
  assert.ok(checkPosting({ ...valid, title: "é".repeat(100) }, now).posting, "200 bytes fit");
  assert.match(checkPosting({ ...valid, title: "é".repeat(101) }, now).errors.title ?? "", /202 bytes, over the limit of 200/);
  assert.ok(checkPosting({ ...valid, description: "x".repeat(4096) }, now).posting);
  assert.ok(checkPosting({ ...valid, description: "x".repeat(4097) }, now).errors.description);
});

test("title required; salary needs a currency and min ≤ max; the deadline is in the future", () => {
  assert.equal(checkPosting({ ...valid, title: "  " }, now).errors.title, "A title is required");
  assert.ok(checkPosting({ ...valid, salaryMin: "10" }, now).errors.salaryCurrency);
  assert.ok(checkPosting({ ...valid, salaryCurrency: "USD", salaryMin: "10", salaryMax: "5" }, now).errors.salaryMin);
  assert.ok(checkPosting({ ...valid, salaryCurrency: "USD", salaryMin: "10" }, now).posting, "a minimum alone is fine");
  assert.ok(checkPosting({ ...valid, salaryMin: "abc", salaryCurrency: "USD" }, now).errors.salaryMin);
  assert.ok(checkPosting({ ...valid, salaryMax: "18446744073709551616", salaryCurrency: "USD" }, now).errors.salaryMax);
  assert.ok(checkPosting({ ...valid, deadline: now }, now).errors.deadline);
  assert.ok(checkPosting({ ...valid, deadline: Number.NaN }, now).errors.deadline);
  const { posting } = checkPosting({ ...valid, deadline: now + 1500, salaryCurrency: "EUR", salaryMin: "90,000", salaryMax: "120000" }, now);
  assert.deepEqual(posting && [posting.deadline, posting.salaryMin, posting.salaryMax], [BigInt(Math.floor((now + 1500) / 1000)), 90000n, 120000n]);
});

test("tags are trimmed and empty ones dropped", () => {
  assert.equal(normalizeTags(" rust,  web3 ,,remote "), "rust,web3,remote");
});
