/// <reference types="node" />
// A job's history says what each update changed, in words a reader can check.

import { test } from "node:test";
import assert from "node:assert/strict";
import { revisionChanges, type Revision } from "../src/views/visitor/revisions";

const first: Revision = {
  title: "Rust Engineer",
  company: "Acme",
  location: "Berlin",
  tags: ["rust"],
  description: "# About",
  salaryCurrency: "EUR",
  salaryMin: "90000",
  salaryMax: "120000",
  deadline: null,
  deadlineUnix: null,
  blockNumber: "10",
  txHash: "0x01",
  timestamp: "2026-11-25T10:00:00Z",
};

test("an update that changes nothing visible has no changes", () => {
  assert.deepEqual(revisionChanges(first, { ...first, blockNumber: "11", txHash: "0x02" }), []);
});

test("title, pay, tags and deadline changes show old and new; the description only as edited", () => {
  const next: Revision = {
    ...first,
    title: "Senior Rust Engineer",
    salaryMin: "100000",
    salaryMax: "130000",
    tags: ["rust", "postgres"],
    deadline: "2026-12-31T23:59:59Z",
    deadlineUnix: "1798761599",
    description: "# About us",
  };
  assert.deepEqual(revisionChanges(first, next), [
    { field: "Title", from: "Rust Engineer", to: "Senior Rust Engineer" },
    { field: "Pay", from: "EUR 90,000 – 120,000", to: "EUR 100,000 – 130,000" },
    { field: "Tags", from: "rust", to: "rust, postgres" },
    { field: "Deadline", from: "none", to: "31 Dec 2026" },
    { field: "Description" },
  ]);
});

test("pay withdrawn and an emptied location read as such", () => {
  const next: Revision = { ...first, salaryMin: null, salaryMax: null, salaryCurrency: "", location: "" };
  assert.deepEqual(revisionChanges(first, next), [
    { field: "Pay", from: "EUR 90,000 – 120,000", to: "not disclosed" },
    { field: "Location", from: "Berlin", to: "(none)" },
  ]);
});
