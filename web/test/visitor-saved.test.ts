/// <reference types="node" />
// Saved searches come back from localStorage, which anything on the origin may have written:
// only well-formed entries count, and a name is saved once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { addSaved, loadSaved, removeSaved } from "../src/views/visitor/saved";

const storage = (value: string | null) => ({ getItem: () => value });

test("malformed storage reads as no saved searches", () => {
  assert.deepEqual(loadSaved(storage(null)), []);
  assert.deepEqual(loadSaved(storage("{not json")), []);
  assert.deepEqual(loadSaved(storage('{"name":"x"}')), []);
  assert.deepEqual(loadSaved(storage('[{"name":"ok","query":"q=rust"},{"name":1},null,"x"]')), [{ name: "ok", query: "q=rust" }]);
});

test("saving a name again replaces it and moves it first; deleting removes only it", () => {
  let list = addSaved([], { name: "a", query: "q=1" });
  list = addSaved(list, { name: "b", query: "q=2" });
  list = addSaved(list, { name: "a", query: "q=3" });
  assert.deepEqual(list, [
    { name: "a", query: "q=3" },
    { name: "b", query: "q=2" },
  ]);
  assert.deepEqual(removeSaved(list, "a"), [{ name: "b", query: "q=2" }]);
});
