/// <reference types="node" />
// The list's state lives in the URL: reading it back must give the same search, defaults must
// stay out of the URL, and the API arguments must say exactly what the form shows.

import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePay, parseTags, readSearch, searchVariables, writeSearch } from "../src/views/visitor/search";

test("an empty query string is the newest open jobs", () => {
  const search = readSearch(new URLSearchParams(""));
  assert.deepEqual(searchVariables(search), { chainId: null, where: { status: "OPEN" }, search: null, orderBy: "NEWEST" });
  assert.equal(writeSearch(search).toString(), "");
});

test("a full search survives the URL round trip", () => {
  const query = "q=rust+postgres&status=any&tags=rust,solidity&location=Berlin&remote=1&pay=100000&sort=pay";
  const search = readSearch(new URLSearchParams(query));
  assert.equal(writeSearch(search).toString(), new URLSearchParams(query).toString());
  assert.deepEqual(readSearch(writeSearch(search)), search);
});

test("filters become one JobFilter: tags all required, location or remote, pay as the range's start", () => {
  const search = readSearch(new URLSearchParams("status=expired&tags=Rust, SQL ,rust&location=Berlin&remote=1&pay=90,000"));
  assert.deepEqual(searchVariables(search).where, {
    and: [
      { status: "EXPIRED" },
      { tags_has: "rust" },
      { tags_has: "sql" },
      { or: [{ location_contains: "Berlin" }, { location_contains: "remote" }] },
      { salaryMin_gte: "90000" },
    ],
  });
  assert.deepEqual(searchVariables(readSearch(new URLSearchParams("status=any&remote=1"))).where, { location_contains: "remote" });
  assert.equal(searchVariables(readSearch(new URLSearchParams("status=any"))).where, null);
});

test("relevance is the default only while searching, and never sent without a search", () => {
  const searching = readSearch(new URLSearchParams("q=rust"));
  assert.equal(searching.sort, "relevance");
  assert.equal(searchVariables(searching).orderBy, "RELEVANCE");
  assert.equal(writeSearch(searching).toString(), "q=rust");
  assert.equal(readSearch(new URLSearchParams("sort=relevance")).sort, "newest");
  assert.equal(searchVariables({ ...searching, q: "" }).orderBy, "NEWEST");
  assert.equal(writeSearch(readSearch(new URLSearchParams("q=rust&sort=newest"))).toString(), "q=rust&sort=newest");
});

test("unknown or malformed values fall back instead of reaching the API", () => {
  const search = readSearch(new URLSearchParams("status=deleted&sort=random&pay=lots&remote=yes"));
  assert.equal(search.status, "open");
  assert.equal(search.sort, "newest");
  assert.equal(search.pay, "");
  assert.equal(search.remote, false);
});

test("a chain narrows the list only when it is one the reader may pick; without one every chain's jobs are merged", () => {
  const chains = ["31337", "31338"];
  const one = readSearch(new URLSearchParams("chain=31338&q=rust"), chains);
  assert.equal(one.chain, "31338");
  assert.equal(searchVariables(one).chainId, "31338");
  assert.equal(writeSearch(one).toString(), "q=rust&chain=31338");
  assert.deepEqual(readSearch(writeSearch(one), chains), one);
  // A chain not served, or any chain on a one-board API, is ignored rather than sent.
  assert.equal(readSearch(new URLSearchParams("chain=1"), chains).chain, "");
  assert.equal(readSearch(new URLSearchParams("chain=31338")).chain, "");
  assert.equal(searchVariables(readSearch(new URLSearchParams(""), chains)).chainId, null);
});

test("pay accepts grouped digits within uint64; tags are trimmed, lowercased, unique", () => {
  assert.equal(parsePay("120,000"), "120000");
  assert.equal(parsePay("120 000"), "120000");
  assert.equal(parsePay("18446744073709551615"), "18446744073709551615");
  assert.equal(parsePay("18446744073709551616"), null);
  assert.equal(parsePay("0"), null);
  assert.equal(parsePay("-5"), null);
  assert.equal(parsePay("1e5"), null);
  assert.deepEqual(parseTags(" Rust ,,rust, Go "), ["rust", "go"]);
});
