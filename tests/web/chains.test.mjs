// The page over two boards (`jobboard dev --chains 2`, the same demo on chains 31337 and
// 31338), in a real browser: the list merges both chains' jobs with a badge each, the chain
// filter, search and paging agree with the API, a job of the second chain opens at
// /jobs/<chainId>/<id> (the old /jobs/<id> means the first board), a new job there arrives as
// the banner, an applicant applies to it from the test wallet (which the page switches to that
// chain; the page then waits with X-Min-Block naming it) and sees both chains' applications,
// and an employer acts on the second chain and sees both chains' jobs on the dashboard.
// Accounts 14 (applicant) and 1 (the demo's first employer, whose key the CLI uses).

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  account,
  CARD,
  cli,
  connect,
  env,
  firstSubscription,
  launch,
  noProblems,
  openPage,
  pickDocument,
  query,
  screenshot,
  waitForCards,
} from "./harness.mjs";

const dir = mkdtempSync(join(tmpdir(), "jobboard-chains-"));

let browser;
let first;
let second;
let applicant;
let employer;
/** The job the employer posts on the second chain while a visitor watches. */
let newJob;
/** The applicant's application to it. */
let application;

before(async () => {
  browser = await launch();
  const { _meta } = await query("{ _meta { chainId boards { chainId contract name served } } }");
  const served = _meta.boards.filter((board) => board.served);
  assert.equal(served.length, 2, "dev --chains 2 serves two boards");
  first = served.find((board) => board.chainId === _meta.chainId);
  second = served.find((board) => board.chainId !== _meta.chainId);
  assert.ok(first && second && env.chains.has(Number(second.chainId)), "the test wallet knows both chains");
  [applicant, employer] = await Promise.all([account(14), account(1)]);
});

after(async () => {
  await browser?.close();
});

/** The first page of `jobs(...)` as the API answers it, as "chainId/id". */
async function apiKeys(args, count = 20) {
  const data = await query(`{ jobs(first: ${count}, ${args}) { nodes { chainId id } } }`);
  return data.jobs.nodes.map((job) => `${job.chainId}/${job.id}`);
}

/** Waits until the page's cards are exactly `keys` ("chainId/id"). */
const waitForKeys = (page, keys) => waitForCards(page, keys, { withChain: true });

/** Every card's badge names its own chain's board. */
async function assertBadges(page) {
  const badges = await page.$$eval(CARD, (cards) =>
    cards.map((card) => [card.dataset.chainId, card.querySelector("[data-testid=chain-badge]")?.textContent]),
  );
  const names = new Map([first, second].map((board) => [board.chainId, board.name]));
  for (const [chainId, badge] of badges) assert.equal(badge, names.get(chainId), `a card of chain ${chainId} has the badge ${badge}`);
}

/** The X-Min-Block headers the page sends, as it sends them. */
function minBlocks(page) {
  const seen = [];
  page.on("request", (request) => {
    const header = request.headers()["x-min-block"];
    if (header) seen.push(header);
  });
  return seen;
}

test("a visitor sees both chains' jobs merged with a badge each, filters by chain, searches and pages across chains", async () => {
  for (const [name, viewport] of [
    ["1280", { width: 1280, height: 800 }],
    ["360", { width: 360, height: 740 }],
  ]) {
    const { context, page, problems } = await openPage(browser, { viewport });
    // Ordered by pay, the two chains' identical demos interleave (ties go by chain id).
    await page.goto(new URL("?sort=pay", env.boardUrl).href);
    await page.waitForSelector(CARD);
    const merged = await apiKeys("where: { status: OPEN }, orderBy: SALARY_HIGH_TO_LOW");
    await waitForKeys(page, merged);
    const chains = new Set(merged.map((key) => key.split("/")[0]));
    assert.deepEqual([...chains].sort(), [first.chainId, second.chainId].sort(), "the first page holds both chains' jobs");
    await assertBadges(page);
    assert.equal(await page.getAttribute(`${CARD}[data-chain-id="${second.chainId}"] .job-card-title a`, "href"), `/jobs/${second.chainId}/${merged.find((key) => key.startsWith(`${second.chainId}/`)).split("/")[1]}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the list scrolls sideways by ${overflow} px at ${viewport.width} px`);
    await screenshot(page, `chains-list-${name}`);
    noProblems(problems);
    await context.close();
  }

  const { context, page, problems } = await openPage(browser);
  await page.goto(env.boardUrl);
  await page.waitForSelector(CARD);
  // Newest first across chains: the API's merged order, and "Show more" continues it.
  await waitForKeys(page, await apiKeys("where: { status: OPEN }"));
  await page.click("[data-testid=show-more]");
  await waitForKeys(page, await apiKeys("where: { status: OPEN }", 40));

  // One chain: the menu, the URL and the API agree; a reload keeps it.
  await page.selectOption("#f-chain", second.chainId);
  await page.waitForURL(new RegExp(`\\?chain=${second.chainId}$`));
  const onSecond = await apiKeys(`chainId: "${second.chainId}", where: { status: OPEN }`);
  await waitForKeys(page, onSecond);
  assert.ok(onSecond.every((key) => key.startsWith(`${second.chainId}/`)));
  await page.reload();
  await waitForKeys(page, onSecond);
  assert.equal(await page.inputValue("#f-chain"), second.chainId);

  // Search across every chain again, ranked as the API ranks it.
  await page.selectOption("#f-chain", "");
  await page.fill("#f-q", "rust");
  await page.waitForURL(/\?q=rust$/);
  const rust = await apiKeys(`where: { status: OPEN }, search: "rust"`);
  assert.ok(rust.some((key) => key.startsWith(`${first.chainId}/`)) && rust.some((key) => key.startsWith(`${second.chainId}/`)));
  await waitForKeys(page, rust);

  // A saved search keeps its chain.
  await page.selectOption("#f-chain", second.chainId);
  await page.waitForURL(new RegExp(`\\?q=rust&chain=${second.chainId}$`));
  await page.click("[data-testid=saved-searches] summary");
  await page.fill("#saved-name", "Rust on the second chain");
  await page.click("[data-testid=saved-searches] button[type=submit]");
  assert.equal(await page.getAttribute("[data-testid=saved-list] a", "href"), `/?q=rust&chain=${second.chainId}`);
  await page.goto(env.boardUrl);
  await page.click("[data-testid=saved-searches] summary");
  await page.click("[data-testid=saved-list] a");
  await waitForKeys(page, await apiKeys(`chainId: "${second.chainId}", where: { status: OPEN }, search: "rust"`));
  noProblems(problems);
  await context.close();
});

test("a new job on the second chain arrives as the banner and opens at /jobs/<chainId>/<id>; /jobs/<id> is the first board's", async () => {
  const { context, page, problems } = await openPage(browser);
  const subscribed = firstSubscription(page);
  await page.goto(env.boardUrl);
  await page.waitForSelector(CARD);
  await subscribed;

  const title = `Second chain role ${Date.now()}`;
  const out = cli(["job", "post", "--json", "--title", title, "--company", "Chain Two Co", "--location", "Remote", "--tags", "rust"], {
    key: env.employerKey,
    extraEnv: { JOBBOARD_RPC_URL: env.chains.get(Number(second.chainId)), JOBBOARD_CONTRACT: second.contract },
  });
  newJob = String(JSON.parse(out).jobId);
  await page.waitForSelector("[data-testid=new-jobs]:visible");
  await page.click("[data-testid=new-jobs]");
  const card = `${CARD}[data-chain-id="${second.chainId}"][data-job-id="${newJob}"]`;
  await page.waitForSelector(card);
  assert.equal(await page.textContent(`${card} [data-testid=chain-badge]`), second.name);

  await page.click(`${card} .job-card-title a`);
  await page.waitForURL(new URL(`jobs/${second.chainId}/${newJob}`, env.boardUrl).href);
  await page.waitForSelector(`[data-testid=job-page][data-chain-id="${second.chainId}"][data-job-id="${newJob}"]`);
  assert.equal(await page.textContent("[data-testid=job-title]"), title);
  assert.equal(await page.textContent(".job-head [data-testid=chain-badge]"), second.name);
  await screenshot(page, "chains-job-1280");

  // The same id means another job on each chain; a URL without a chain is the first board's.
  const { a, b } = await query(`{ a: job(chainId: "${first.chainId}", id: "${newJob}") { id } b: job(chainId: "${second.chainId}", id: "2") { title } }`);
  await page.goto(new URL(`jobs/${newJob}`, env.boardUrl).href);
  await page.waitForSelector(a ? `[data-testid=job-page][data-chain-id="${first.chainId}"]` : "[data-testid=job-not-found]");
  await page.goto(new URL("jobs/2", env.boardUrl).href);
  await page.waitForSelector(`[data-testid=job-page][data-chain-id="${first.chainId}"][data-job-id="2"]`);
  await page.goto(new URL(`jobs/${second.chainId}/2`, env.boardUrl).href);
  await page.waitForSelector(`[data-testid=job-page][data-chain-id="${second.chainId}"][data-job-id="2"]`);
  assert.equal(await page.textContent("[data-testid=job-title]"), b.title);
  await page.goto(new URL("jobs/999/2", env.boardUrl).href);
  await page.waitForSelector("[data-testid=job-not-found]");
  noProblems(problems);
  await context.close();
});

async function applicationsOf(chainId, job, who) {
  const data = await query(
    `query($chainId: BigInt, $job: ID!, $who: Address!) { applications(chainId: $chainId, where: { jobId: $job, applicant: $who }) { nodes { id status applicationHash } } }`,
    { chainId, job, who },
  );
  return data.applications.nodes;
}

test("an applicant applies on both chains from one wallet, switched by the page, and sees both applications", async () => {
  const { context, page, wallet, problems } = await openPage(browser, { account: applicant });
  const waits = minBlocks(page);

  // A job on the first chain, by its old URL: the wallet is already there.
  const { jobs } = await query(`{ jobs(chainId: "${first.chainId}", where: { status: OPEN }, first: 1) { nodes { id title } } }`);
  const firstJob = jobs.nodes[0];
  await page.goto(new URL(`jobs/${firstJob.id}`, env.boardUrl).href);
  await connect(page);
  await pickDocument(page, "cv-first.txt", "CV for the first chain");
  await page.getByLabel("I saved the receipt").check();
  await page.getByRole("button", { name: "Apply", exact: true }).click();
  await page.getByText(/was confirmed in block \d+/).waitFor();
  assert.deepEqual(wallet.sent, [Number(first.chainId)]);
  const [onFirst] = await applicationsOf(first.chainId, firstJob.id, applicant);
  assert.ok(onFirst, "the first chain's application is on the board");

  // The second chain's new job: the page asks the wallet to switch before anything else.
  await page.goto(new URL(`jobs/${second.chainId}/${newJob}`, env.boardUrl).href);
  const main = page.locator("main");
  await main.getByText(`this board is on ${second.name} (chain id ${second.chainId})`).waitFor();
  await screenshot(page, "chains-switch-1280");
  await main.getByRole("button", { name: `Switch to ${second.name}` }).click();
  const document = "Applicant's CV\nRust, two chains.\n";
  await pickDocument(page, "cv-second.txt", document);
  assert.equal(wallet.chainId, Number(second.chainId));
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download receipt" }).click()]);
  const documentPath = join(dir, "cv-second.txt");
  writeFileSync(documentPath, document);
  await download.saveAs(`${documentPath}.jobboard.json`);
  const receipt = JSON.parse(readFileSync(`${documentPath}.jobboard.json`, "utf8"));
  assert.equal(receipt.chainId, Number(second.chainId));
  assert.equal(receipt.board, second.contract.toLowerCase());
  await page.getByRole("button", { name: "Apply", exact: true }).click();
  const confirmed = await page.getByText(/was confirmed in block \d+/).textContent();
  const block = confirmed.match(/block (\d+)/)[1];
  assert.deepEqual(wallet.sent, [Number(first.chainId), Number(second.chainId)]);
  assert.ok(waits.includes(`${second.chainId}:${block}`), `the page waited for ${second.chainId}:${block}; it sent ${waits}`);
  [application] = await applicationsOf(second.chainId, newJob, applicant);
  assert.equal(application?.applicationHash, receipt.applicationHash);
  const verified = JSON.parse(
    cli(["application", "verify", "--id", application.id, "--document", documentPath, "--json"], {
      extraEnv: { JOBBOARD_RPC_URL: env.chains.get(Number(second.chainId)), JOBBOARD_CONTRACT: second.contract },
    }),
  );
  assert.equal(verified.verified, true, "the CLI verifies the second chain's receipt");

  // My applications: both chains', each with its badge and its chain's link.
  await page.getByRole("link", { name: "My applications" }).last().click();
  const mine = page.locator(`[data-application="${application.id}"][data-chain-id="${second.chainId}"]`);
  await mine.getByRole("link", { name: /^Second chain role/ }).waitFor();
  assert.equal(await mine.locator("[data-testid=chain-badge]").textContent(), second.name);
  assert.equal(await mine.getByRole("link", { name: /^Second chain role/ }).getAttribute("href"), `/jobs/${second.chainId}/${newJob}`);
  const other = page.locator(`[data-application="${onFirst.id}"][data-chain-id="${first.chainId}"]`);
  assert.equal(await other.locator("[data-testid=chain-badge]").textContent(), first.name);
  await screenshot(page, "chains-me-1280");

  // Withdrawing the first chain's one while the wallet is on the second: switched, then sent.
  await other.getByRole("button", { name: "Withdraw" }).click();
  await other.locator(".badge.current", { hasText: "Withdrawn" }).waitFor();
  assert.deepEqual(wallet.sent, [Number(first.chainId), Number(second.chainId), Number(first.chainId)]);
  assert.equal((await applicationsOf(first.chainId, firstJob.id, applicant))[0].status, "WITHDRAWN");
  noProblems(problems);
  await context.close();
});

test("an employer shortlists and posts on the second chain, and the dashboard lists both chains' jobs", async () => {
  const { context, page, wallet, problems } = await openPage(browser, { account: employer });
  await page.goto(new URL(`jobs/${second.chainId}/${newJob}/applications`, env.boardUrl).href);
  await connect(page);
  await page.locator("main").getByRole("button", { name: `Switch to ${second.name}` }).click();
  await page.getByRole("button", { name: `Shortlist application #${application.id}` }).click();
  await page.locator(`[data-application="${application.id}"] .badge`, { hasText: "Shortlisted" }).waitFor();
  assert.deepEqual(wallet.sent, [Number(second.chainId)]);
  assert.equal((await applicationsOf(second.chainId, newJob, applicant))[0].status, "SHORTLISTED");

  // Posting: the chain menu starts on the wallet's chain; the first chain is picked instead.
  await page.goto(new URL("post", env.boardUrl).href);
  assert.equal(await page.inputValue("#posting-chain"), second.chainId);
  await page.selectOption("#posting-chain", first.chainId);
  await page.getByLabel("Title (required)").fill("Posted from the chain menu");
  await page.getByRole("button", { name: "Post job" }).click();
  await page.waitForURL(new RegExp(`/jobs/${first.chainId}/\\d+$`));
  const posted = new URL(page.url()).pathname.split("/").pop();
  assert.deepEqual(wallet.sent, [Number(second.chainId), Number(first.chainId)]);
  const { job } = await query(`{ job(chainId: "${first.chainId}", id: "${posted}") { title employer { address } } }`);
  assert.equal(job.title, "Posted from the chain menu");

  for (const [name, viewport] of [
    ["1280", { width: 1280, height: 800 }],
    ["360", { width: 360, height: 740 }],
  ]) {
    await page.setViewportSize(viewport);
    await page.goto(new URL("dashboard", env.boardUrl).href);
    await page.locator(`tr[data-job="${posted}"][data-chain-id="${first.chainId}"]`).waitFor();
    const counts = await query(
      `{ a: employer(chainId: "${first.chainId}", address: "${employer}") { jobCount } b: employer(chainId: "${second.chainId}", address: "${employer}") { jobCount } }`,
    );
    assert.equal(await page.locator("tbody tr").count(), counts.a.jobCount + counts.b.jobCount);
    for (const board of [first, second]) {
      const badge = page.locator(`tbody tr[data-chain-id="${board.chainId}"] [data-testid=chain-badge]`).first();
      assert.equal(await badge.textContent(), board.name);
    }
    await screenshot(page, `chains-dashboard-${name}`);
  }
  noProblems(problems);
  await context.close();
});
