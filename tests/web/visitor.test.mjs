// The visitor's pages in a real browser against the dev board (issue 13, tests 1-3 and the
// list/job part of 7): the list and its filters agree with the API and live in the URL, a
// job's Markdown renders, hostile postings stay inert, new jobs arrive as a banner, and the
// time to the first jobs is measured in the browser and printed.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { encodeAbiParameters, encodeFunctionData, toFunctionSelector, toHex } from "viem";
import { account, CARD, cardIds, cli, env, firstSubscription, launch, noProblems, openPage, query, rpc, screenshot, waitForCards } from "./harness.mjs";

const { abi } = JSON.parse(readFileSync(new URL("../../contracts/artifacts/JobBoard.json", import.meta.url), "utf8"));
const postJobAbi = abi.find((item) => item.type === "function" && item.name === "postJob");

const CARD_FIELDS = "nodes { id title }";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The first page of `jobs(...)` as the API answers it: ids in order. */
async function apiIds(args) {
  const data = await query(`{ jobs(first: 20, ${args}) { ${CARD_FIELDS} } }`);
  return data.jobs.nodes.map((job) => job.id);
}

/** A query answered only once the index holds `block` (the API's X-Min-Block). */
async function queryAtBlock(block, text) {
  const response = await fetch(new URL("graphql", env.boardUrl), {
    method: "POST",
    headers: { "content-type": "application/json", "x-min-block": String(block) },
    body: JSON.stringify({ query: text }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Sends a transaction from an unlocked dev account, waits for its receipt; returns the posted job id. */
async function sendPostJob(from, data) {
  const hash = await rpc("eth_sendTransaction", [{ from, to: env.contract, data, gas: toHex(5_000_000) }]);
  let receipt = null;
  while (!receipt) receipt = await rpc("eth_getTransactionReceipt", [hash]);
  assert.equal(receipt.status, "0x1", "the posting transaction reverted");
  const log = receipt.logs.find((entry) => entry.address.toLowerCase() === env.contract);
  assert.ok(log, "no JobPosted log");
  const id = BigInt(log.topics[1]).toString();
  await queryAtBlock(BigInt(receipt.blockNumber), `{ job(id: "${id}") { id } }`);
  return id;
}

test("the time to the first jobs is measured in the browser; screenshots of the list and a job", async () => {
  for (const [name, viewport] of [
    ["1280", { width: 1280, height: 800 }],
    ["360", { width: 360, height: 740 }],
  ]) {
    const { context, page, problems } = await openPage(browser, { viewport });
    await page.addInitScript(() => {
      new MutationObserver((_changes, observer) => {
        if (document.querySelector("[data-testid=job-card]")) {
          window.__firstCardAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(env.boardUrl);
    await page.waitForSelector(CARD);
    const { firstCard, scriptBytes } = await page.evaluate(() => ({
      firstCard: window.__firstCardAt,
      scriptBytes: performance
        .getEntriesByType("resource")
        .filter((entry) => entry.name.endsWith(".js"))
        .reduce((sum, entry) => sum + entry.transferSize, 0),
    }));
    // Printed, not asserted: a timing goal is a measurement (the closing note reports it), and
    // this test shares two cores with the rest of the suite.
    console.log(`time to first jobs (${name} px): ${Math.round(firstCard)} ms; JavaScript transferred: ${scriptBytes} bytes`);
    assert.ok(Number.isFinite(firstCard), "the first job card's time was not recorded");
    await screenshot(page, `list-${name}`);

    const id = await page.getAttribute(CARD, "data-job-id");
    await page.click(`${CARD} .job-card-title a`);
    await page.waitForSelector(`[data-testid=job-page][data-job-id="${id}"]`);
    await screenshot(page, `job-${name}`);
    noProblems(problems);
    await context.close();
  }
});

test("a visitor sees the jobs, narrows them, shares the URL, and reads a job's Markdown", async () => {
  const { context, page, problems } = await openPage(browser);
  const before = await apiIds("where: { status: OPEN }");
  await page.goto(env.boardUrl);
  await page.waitForSelector(CARD);
  const shown = await cardIds(page);
  const afterwards = await apiIds("where: { status: OPEN }");
  assert.ok(shown.length > 0, "no jobs on the page");
  assert.ok(
    JSON.stringify(shown) === JSON.stringify(before) || JSON.stringify(shown) === JSON.stringify(afterwards),
    `cards ${shown} differ from the API's newest open jobs ${afterwards}`,
  );

  // Full-text search: the page asks what the API answers, ranked the same.
  await page.fill("#f-q", "rust");
  await page.waitForURL(/\?q=rust$/);
  const rust = await apiIds(`where: { status: OPEN }, search: "rust"`);
  assert.ok(rust.length > 0 && rust.length < shown.length, "the demo should have some, not all, rust jobs");
  await waitForCards(page, rust);

  // Remote only, and pay at least 100000, ordered by pay.
  await page.check("#f-remote");
  await waitForCards(page, await apiIds(`where: { and: [{ status: OPEN }, { location_contains: "remote" }] }, search: "rust"`));
  await page.fill("#f-pay", "100000");
  await page.selectOption("#f-sort", "pay");
  const narrowed = await apiIds(
    `where: { and: [{ status: OPEN }, { location_contains: "remote" }, { salaryMin_gte: "100000" }] }, search: "rust", orderBy: SALARY_HIGH_TO_LOW`,
  );
  await waitForCards(page, narrowed);
  assert.equal(new URL(page.url()).search, "?q=rust&remote=1&pay=100000&sort=pay");

  // Saved searches: kept under a name across reloads, linked, deletable.
  await page.click("[data-testid=saved-searches] summary");
  await page.fill("#saved-name", "Remote Rust, well paid");
  await page.click("[data-testid=saved-searches] button[type=submit]");
  const savedLink = "[data-testid=saved-list] a";
  await page.reload();
  await page.click("[data-testid=saved-searches] summary");
  assert.equal(await page.textContent(savedLink), "Remote Rust, well paid");
  assert.equal(await page.getAttribute(savedLink, "href"), "/?q=rust&remote=1&pay=100000&sort=pay");
  await page.click("[data-testid=saved-list] button");
  assert.equal(await page.locator(savedLink).count(), 0);

  // A tag chip filters by that tag.
  await page.goto(new URL("?status=any", env.boardUrl).href);
  await page.waitForSelector(`${CARD} .tag`);
  const tag = await page.textContent(`${CARD} .tag`);
  await page.click(`${CARD} .tag`);
  await waitForCards(page, await apiIds(`where: { tags_has: ${JSON.stringify(tag)}, status: OPEN }`));

  // The URL alone reproduces the narrowed view, form included.
  const shared = new URL("?q=rust&remote=1&pay=100000&sort=pay", env.boardUrl).href;
  const fresh = await openPage(browser);
  await fresh.page.goto(shared);
  await fresh.page.waitForSelector(narrowed.length ? CARD : "[data-testid=empty]");
  assert.deepEqual(await cardIds(fresh.page), narrowed);
  assert.equal(await fresh.page.inputValue("#f-q"), "rust");
  assert.equal(await fresh.page.inputValue("#f-pay"), "100000");
  assert.equal(await fresh.page.isChecked("#f-remote"), true);
  assert.equal(await fresh.page.inputValue("#f-sort"), "pay");
  noProblems(fresh.problems);
  await fresh.context.close();

  // A job page renders its description's Markdown as elements.
  const data = await query(`{ jobs(first: 50, where: { status: OPEN }) { nodes { id title description } } }`);
  const job = data.jobs.nodes.find((node) => /^#+ /m.test(node.description) && /^[-*] /m.test(node.description));
  assert.ok(job, "the demo should have a description with a heading and a list");
  const heading = job.description.match(/^#+ (.+)$/m)[1].trim();
  const item = job.description.match(/^[-*] (.+)$/m)[1].trim();
  await page.goto(new URL(`jobs/${job.id}`, env.boardUrl).href);
  await page.waitForSelector("[data-testid=job-page] .markdown");
  assert.equal(await page.textContent("[data-testid=job-title]"), job.title);
  const headings = await page.$$eval(".markdown :is(h2, h3, h4, h5, h6)", (nodes) => nodes.map((node) => node.textContent));
  assert.ok(headings.includes(heading), `heading "${heading}" not among ${headings}`);
  const items = await page.$$eval(".markdown li", (nodes) => nodes.map((node) => node.textContent));
  assert.ok(items.some((text) => item.includes(text) || text.includes(item.replace(/[*_`]/g, ""))), `list item "${item}" not rendered`);
  await page.click("[data-testid=revisions] summary");
  assert.ok(await page.isVisible("[data-testid=revision]"), "the history does not open");

  // An unknown job and a malformed employer address say so.
  await page.goto(new URL("jobs/999999999", env.boardUrl).href);
  await page.waitForSelector("[data-testid=job-not-found]");
  await page.goto(new URL("employers/0x1234", env.boardUrl).href);
  await page.waitForSelector("[data-testid=bad-address]");
  noProblems(problems);
  await context.close();
});

test("hostile postings render inert: no script runs, no dialog, no javascript: link, no overflow", async () => {
  const from = await account(10);
  const longWord = "W".repeat(200);
  const description = [
    "# Totally normal job",
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "[x](javascript:window.__pwned=3)",
    "[y](JaVaScRiPt:window.__pwned=4) [z](data:text/html,<script>alert(5)</script>)",
    '<a href="javascript:alert(6)">click</a>',
    "",
    "U".repeat(2000),
  ].join("\n");
  const posting = {
    title: longWord,
    company: "<b>Evil</b> Corp".padEnd(100, "E"),
    location: "<img src=x onerror=alert(7)>",
    tags: "<script>alert(8)</script>,remote",
    description,
    salaryCurrency: "USD",
    salaryMin: 1n,
    salaryMax: 18446744073709551615n,
    deadline: 0n,
  };
  const hostile = await sendPostJob(from, encodeFunctionData({ abi, functionName: "postJob", args: [posting] }));

  // The same posting with invalid UTF-8: the tuple's strings encoded as raw bytes.
  const bytesTuple = [{ type: "tuple", components: postJobAbi.inputs[0].components.map((c) => ({ name: c.name, type: c.type === "string" ? "bytes" : c.type })) }];
  const raw = (text) => toHex(new TextEncoder().encode(text));
  const invalid = encodeAbiParameters(bytesTuple, [
    {
      title: `0xfffe${raw(" broken title").slice(2)}`,
      company: "0xc328",
      location: raw("Remote"),
      tags: "0xff2c6f6b",
      description: `${raw("# Bad bytes\n\n")}c0af${raw(" here").slice(2)}`,
      salaryCurrency: "0x",
      salaryMin: 0n,
      salaryMax: 0n,
      deadline: 0n,
    },
  ]);
  const brokenId = await sendPostJob(from, `${toFunctionSelector(postJobAbi)}${invalid.slice(2)}`);

  for (const viewport of [{ width: 360, height: 740 }, { width: 1280, height: 800 }]) {
    const { context, page, problems } = await openPage(browser, { viewport });
    const dialogs = [];
    page.on("dialog", async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    for (const path of [`jobs/${hostile}`, `jobs/${brokenId}`, "?status=any", `employers/${from}`]) {
      await page.goto(new URL(path, env.boardUrl).href);
      await page.waitForSelector(path.startsWith("jobs/") ? "[data-testid=job-page] .markdown" : CARD);
      const state = await page.evaluate(() => ({
        pwned: window.__pwned,
        scripts: document.querySelectorAll("main script, main img, main iframe").length,
        badLinks: [...document.querySelectorAll("main a")].filter((a) => !/^(https?:|mailto:|\/)/i.test(a.getAttribute("href") ?? "")).length,
        overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      }));
      assert.equal(state.pwned, undefined, `a payload ran on ${path}`);
      assert.equal(state.scripts, 0, `markup from a posting became elements on ${path}`);
      assert.equal(state.badLinks, 0, `a non-http link on ${path}`);
      assert.ok(state.overflow <= 0, `${path} scrolls sideways by ${state.overflow} px at ${viewport.width} px`);
    }
    // The hostile job's own page: the javascript: link is text, the title is whole.
    await page.goto(new URL(`jobs/${hostile}`, env.boardUrl).href);
    await page.waitForSelector("[data-testid=job-page] .markdown");
    assert.equal(await page.textContent("[data-testid=job-title]"), longWord);
    assert.equal(await page.locator(".markdown a").count(), 0);
    assert.match(await page.textContent(".markdown"), /\[x\]\(javascript:window\.__pwned=3\)/);
    assert.match(await page.textContent(".markdown"), /<script>window\.__pwned=1<\/script>/);
    if (viewport.width === 360) await screenshot(page, "job-hostile-360");
    // The invalid UTF-8 job shows replacement characters, not a failure.
    await page.goto(new URL(`jobs/${brokenId}`, env.boardUrl).href);
    await page.waitForSelector("[data-testid=job-page] .markdown");
    assert.match(await page.textContent("[data-testid=job-title]"), /\uFFFD.*broken title/);
    assert.deepEqual(dialogs, [], "a dialog opened");
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    noProblems(problems);
    await context.close();
  }
});

test("a job posted meanwhile appears as a banner within 2 s and the list waits for the reader", async () => {
  const { context, page, problems } = await openPage(browser);
  const subscribed = firstSubscription(page);
  await page.goto(env.boardUrl);
  await page.waitForSelector(CARD);
  await subscribed;
  const before = await cardIds(page);

  const title = `Live banner test ${Date.now()}`;
  const out = cli(["job", "post", "--json", "--title", title, "--company", "Banner Co", "--location", "Remote", "--tags", "test"], {
    key: env.employerKey,
  });
  const posted = Date.now();
  const jobId = String(JSON.parse(out).jobId);
  await page.waitForSelector("[data-testid=new-jobs]:visible", { timeout: 5000 });
  const elapsed = Date.now() - posted;
  console.log(`new-job banner after ${elapsed} ms`);
  assert.ok(elapsed < 2000, `the banner took ${elapsed} ms`);
  assert.match(await page.textContent("[data-testid=new-jobs]"), /^\d+ new jobs? · Show$/);
  assert.deepEqual(await cardIds(page), before, "the list changed before the reader asked");

  await page.click("[data-testid=new-jobs]");
  await page.waitForFunction((id) => document.querySelector("[data-testid=job-card]")?.getAttribute("data-job-id") === id, jobId);
  assert.equal(await page.textContent(`${CARD} .job-card-title`), title);
  assert.equal(await page.isVisible("[data-testid=new-jobs]"), false);
  noProblems(problems);
  await context.close();
});

test("the list works from the keyboard alone, with a visible focus", async () => {
  const { context, page, problems } = await openPage(browser);
  try {
    await page.goto(env.boardUrl);
    await page.waitForSelector(CARD);
    // The first Tab reaches the skip link; following it lands in the main content.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
    // Tab on to the search field (past the header's links and wallet button) and search.
    for (let i = 0; i < 20 && (await page.evaluate(() => document.activeElement?.id)) !== "f-q"; i++) {
      await page.keyboard.press("Tab");
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), "f-q", "Tab never reached the search field");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, "none", "the focused search field shows no focus ring");
    await page.keyboard.type("rust");
    await page.keyboard.press("Enter");
    const expected = (
      await query(`{ jobs(where: { status: OPEN }, search: "rust", first: 20) { ${CARD_FIELDS} } }`)
    ).jobs.nodes.map((job) => job.id);
    await waitForCards(page, expected);
    // Tab to the first card's title link and open it with Enter.
    const firstTitle = (await query(`{ job(id: "${expected[0]}") { title } }`)).job.title;
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => ({
        tag: document.activeElement?.tagName,
        href: document.activeElement?.getAttribute("href"),
      }));
      if (focused.tag === "A" && focused.href === `/jobs/${expected[0]}`) break;
    }
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("href")), `/jobs/${expected[0]}`);
    await page.keyboard.press("Enter");
    await page.waitForURL(new URL(`jobs/${expected[0]}`, env.boardUrl).href);
    await page.waitForFunction((title) => document.querySelector("h1")?.textContent?.trim() === title, firstTitle);
    noProblems(problems);
  } finally {
    await context.close();
  }
});
