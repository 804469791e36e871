/// <reference types="node" />
// Job descriptions are hostile: the rendered HTML must hold no markup the author wrote, no
// link to a script scheme, and every link must carry the rel that keeps the board out of it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { markdownToHtml } from "../src/markdown";

/** Every href in the HTML. */
const hrefs = (html: string): string[] => [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1] ?? "");

test("raw HTML is escaped, never parsed", () => {
  for (const source of [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "<iframe src=https://example.com></iframe>",
    "text <b onmouseover=alert(1)>bold</b>",
    "<div>\n\n*x*\n\n</div>",
  ]) {
    const html = markdownToHtml(source);
    assert.doesNotMatch(html, /<(script|img|iframe|b|div)\b/i, source);
    assert.match(html, /&lt;/, source);
  }
});

test("script-like schemes never become links", () => {
  const attacks = [
    "[x](javascript:window.__pwned=3)",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;vascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](<java script:alert(1)>)",
    "[x](<javascript\n:alert(1)>)",
    "[x]( javascript:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "[x](file:///etc/passwd)",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
  ];
  for (const source of attacks) {
    const html = markdownToHtml(source);
    assert.deepEqual(hrefs(html), [], `${source} → ${html}`);
    assert.doesNotMatch(html, /<(a|img|svg)\b/i, source);
  }
});

test("relative links stay text (only http(s) and mailto leave the page)", () => {
  assert.deepEqual(hrefs(markdownToHtml("[home](/jobs/1) [anchor](#x)")), []);
});

test("a normal link gets rel noopener noreferrer nofollow and no target", () => {
  const html = markdownToHtml("[site](https://example.com/a?b=1) and [mail](mailto:hr@example.com)");
  assert.deepEqual(hrefs(html), ["https://example.com/a?b=1", "mailto:hr@example.com"]);
  assert.equal(html.match(/rel="noopener noreferrer nofollow"/g)?.length, 2);
  assert.doesNotMatch(html, /target=/);
});

test("bare URLs and emails are linked with the same rel", () => {
  const html = markdownToHtml("Apply at https://example.com/jobs or write to hr@example.com");
  assert.deepEqual(hrefs(html), ["https://example.com/jobs", "mailto:hr@example.com"]);
  assert.equal(html.match(/rel="noopener noreferrer nofollow"/g)?.length, 2);
});

test("an image becomes a link named by its alt text, never an <img>", () => {
  const html = markdownToHtml("![team photo](https://example.com/t.png)");
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /<a href="https:\/\/example.com\/t.png" rel="noopener noreferrer nofollow">team photo<\/a>/);
});

test("headings, lists, emphasis and code render (headings one level below the page's title)", () => {
  const html = markdownToHtml("# About\n\n## Stack\n\n- Rust\n- *Solidity*\n\n1. one\n\n`inline` and\n\n```\nfn main() {}\n```\n");
  assert.match(html, /<h2>About<\/h2>/);
  assert.match(html, /<h3>Stack<\/h3>/);
  assert.match(html, /<ul>\s*<li>Rust<\/li>\s*<li><em>Solidity<\/em><\/li>\s*<\/ul>/);
  assert.match(html, /<ol>\s*<li>one<\/li>\s*<\/ol>/);
  assert.match(html, /<code>inline<\/code>/);
  assert.match(html, /<pre><code>fn main\(\) \{\}\n<\/code><\/pre>/);
});

test("U+FFFD and long unbroken text pass through as text", () => {
  const long = "A".repeat(4096);
  assert.equal(markdownToHtml(`\uFFFD\uFFFD ${long}`), `<p>\uFFFD\uFFFD ${long}</p>\n`);
});
