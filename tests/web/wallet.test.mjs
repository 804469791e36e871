// The wallet's flows in a real browser against anvil, the indexer and the API: an employer
// posts through the form, applicants apply with a file (the downloaded receipt passes the
// CLI's verify), the employer shortlists, batch-rejects and closes; a cancelled signature, a
// revert and the wrong chain each give their message and change nothing. Accounts 11
// (employer), 12 and 13 (applicants): never the demo's.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { account, cli, connect, env, launch, openPage, pickDocument, query, screenshot } from "./harness.mjs";

let browser;
let employer;
let alice;
let bob;
let jobId;
let secondJobId;
let aliceApplication;
const dir = mkdtempSync(join(tmpdir(), "jobboard-wallet-"));
const pages = [];

before(async () => {
  browser = await launch();
  [employer, alice, bob] = await Promise.all([account(11), account(12), account(13)]);
});

after(async () => {
  for (const { problems } of pages) {
    assert.deepEqual(problems.filter((p) => p.startsWith("page error")), [], "no uncaught errors in the page");
  }
  await browser?.close();
});

/** A page for `address` at `path`, connected through the button in <main> (or the header). */
async function connected(address, path, viewport) {
  const opened = await openPage(browser, { account: address, viewport });
  pages.push(opened);
  await opened.page.goto(new URL(path, env.boardUrl).href);
  await connect(opened.page);
  return opened;
}

/** Posts a job through the page's form as the connected employer; returns its id. */
async function postThroughForm(page, title) {
  await page.goto(new URL("post", env.boardUrl).href);
  await page.getByLabel("Title (required)").fill(title);
  await page.getByLabel("Company").fill("Wallet Test Co");
  await page.getByLabel("Location").fill("Remote");
  await page.getByLabel("Tags").fill("rust, browser");
  await page.getByLabel("Description (Markdown)").fill("## The role\n\nYou build **wallet flows**.");
  await page.getByLabel("Currency").fill("EUR");
  await page.getByLabel("Minimum").fill("90000");
  await page.getByLabel("Maximum").fill("120000");
  await page.getByRole("button", { name: "Post job" }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  return new URL(page.url()).pathname.split("/").pop();
}

async function applications(job, applicant) {
  const data = await query(
    `query($job: ID!, $who: Address!) { applications(where: { jobId: $job, applicant: $who }) { nodes { id status applicationHash } } }`,
    { job, who: applicant },
  );
  return data.applications.nodes;
}

test("the employer posts a job through the form; its limits are checked before sending", async () => {
  const { page, wallet } = await connected(employer, "post");
  await page.getByLabel("Title (required)").fill("x".repeat(201));
  await page.getByLabel("Minimum").fill("5");
  await page.getByRole("button", { name: "Post job" }).click();
  await page.getByText("201 bytes, over the limit of 200 bytes").waitFor();
  await page.getByText("A salary needs a currency").waitFor();
  assert.ok(!wallet.requests.includes("eth_sendTransaction"), "an invalid posting is not sent");

  await page.getByLabel("Description (Markdown)").fill("Some **bold** text");
  await page.locator(".preview strong", { hasText: "bold" }).waitFor();

  jobId = await postThroughForm(page, "Wallet flow engineer");
  await page.getByRole("heading", { name: "Wallet flow engineer" }).waitFor();
  const { job } = await query(`query($id: ID!) { job(id: $id) { title employer { address } salaryMin salaryCurrency } }`, { id: jobId });
  assert.equal(job.employer.address.toLowerCase(), employer);
  assert.deepEqual([job.title, job.salaryMin, job.salaryCurrency], ["Wallet flow engineer", "90000", "EUR"]);
});

test("an applicant applies with a file; the receipt verifies with the CLI; My applications shows it at once", async () => {
  const { page } = await connected(alice, `jobs/${jobId}`);
  const apply = page.getByRole("button", { name: "Apply", exact: true });
  const document = "Alice's CV\nRust, TypeScript, wallets.\n";
  await pickDocument(page, "cv-alice.txt", document);
  assert.equal(await apply.isDisabled(), true, "Apply waits for the receipt to be saved");
  await screenshot(page, "apply-1280");

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download receipt" }).click()]);
  assert.equal(download.suggestedFilename(), "cv-alice.txt.jobboard.json");
  const documentPath = join(dir, "cv-alice.txt");
  writeFileSync(documentPath, document);
  await download.saveAs(`${documentPath}.jobboard.json`);
  const receipt = JSON.parse(readFileSync(`${documentPath}.jobboard.json`, "utf8"));
  assert.deepEqual(Object.keys(receipt), ["status", "chainId", "board", "jobId", "applicant", "salt", "documentHash", "applicationHash"]);
  assert.equal(receipt.status, "pending");
  assert.equal(receipt.jobId, jobId);

  await apply.click();
  await page.getByText(/was confirmed in block \d+/).waitFor();
  const [mine] = await applications(jobId, alice);
  assert.ok(mine, "the application is on the board");
  assert.equal(mine.applicationHash, receipt.applicationHash);
  aliceApplication = mine.id;

  const verified = JSON.parse(cli(["application", "verify", "--id", mine.id, "--document", documentPath, "--json"]));
  assert.equal(verified.verified, true, "jobboard application verify accepts the page's receipt and the file");

  await page.getByRole("link", { name: "My applications" }).last().click();
  const card = page.locator(`[data-application="${mine.id}"]`);
  await card.getByRole("link", { name: "Wallet flow engineer" }).waitFor();
  assert.equal(await card.locator(".badge.current").textContent(), "Submitted");
  pages.alice = page;
});

test("the employer verifies the received document and receipt in the browser; another document does not match", async () => {
  const { context, page, problems } = await openPage(browser);
  try {
    const documentPath = join(dir, "cv-alice.txt");
    const verify = async (document) => {
      await page.goto(new URL("verify", env.boardUrl).href);
      await page.setInputFiles("#verify-document", document);
      await page.setInputFiles("#verify-receipt", `${documentPath}.jobboard.json`);
      await page.getByRole("button", { name: "Verify", exact: true }).click();
      const verdict = page.locator(".verdict-title");
      await verdict.waitFor();
      return (await verdict.textContent())?.trim();
    };
    assert.equal(await verify(documentPath), "Match");
    const other = join(dir, "cv-someone-else.txt");
    writeFileSync(other, "Someone else's CV\n");
    assert.equal(await verify(other), "No match");
    assert.deepEqual(problems, [], "the page reported errors");
  } finally {
    await context.close();
  }
});

test("the employer shortlists, the applicant sees it, a batch reject, then the job is closed", async () => {
  const { page } = await connected(employer, `jobs/${jobId}/applications`);
  await page.getByRole("button", { name: `Shortlist application #${aliceApplication}` }).click();
  await page.locator(`[data-application="${aliceApplication}"] .badge`, { hasText: "Shortlisted" }).waitFor();
  await pages.alice.locator(`[data-application="${aliceApplication}"] .badge.current`, { hasText: "Shortlisted" }).waitFor();

  const second = await connected(bob, `jobs/${jobId}`);
  await pickDocument(second.page, "bob.txt", "Bob's letter");
  await second.page.getByLabel("I saved the receipt").check();
  await second.page.getByRole("button", { name: "Apply", exact: true }).click();
  await second.page.getByText(/was confirmed in block \d+/).waitFor();
  const [bobs] = await applications(jobId, bob);

  await page.reload();
  await page.locator(`[data-application="${bobs.id}"]`).waitFor();
  await page.getByLabel(`Select #${aliceApplication}`).check();
  await page.getByLabel(`Select #${bobs.id}`).check();
  assert.equal(await page.getByRole("button", { name: "Shortlist selected" }).isDisabled(), true, "a shortlisted one cannot be shortlisted again");
  await page.getByRole("button", { name: "Reject selected" }).click();
  await page.locator(`[data-application="${bobs.id}"] .badge`, { hasText: "Rejected" }).waitFor();
  await page.locator(`[data-application="${aliceApplication}"] .badge`, { hasText: "Rejected" }).waitFor();
  assert.deepEqual([(await applications(jobId, alice))[0].status, bobs && (await applications(jobId, bob))[0].status], ["REJECTED", "REJECTED"]);

  await page.goto(new URL(`jobs/${jobId}`, env.boardUrl).href);
  await page.getByRole("button", { name: "Close job…" }).click();
  await page.getByRole("button", { name: "Close job", exact: true }).click();
  await page.locator("main .badge", { hasText: /closed/i }).first().waitFor();
  const { job } = await query(`query($id: ID!) { job(id: $id) { status } }`, { id: jobId });
  assert.equal(job.status, "CLOSED");
});

test("a cancelled signature, a revert and the wrong chain each explain themselves and change nothing", async () => {
  const poster = await connected(employer, "post");
  secondJobId = await postThroughForm(poster.page, "Second wallet job");

  // Page B opens the job before Alice applies from page A, so B's form is honestly stale.
  const b = await connected(alice, `jobs/${secondJobId}`);
  await pickDocument(b.page, "late.txt", "second try");
  await b.page.getByLabel("I saved the receipt").check();

  const a = await connected(alice, `jobs/${secondJobId}`);
  await pickDocument(a.page, "cv.txt", "first");
  await a.page.getByLabel("I saved the receipt").check();
  a.wallet.rejectNext();
  await a.page.getByRole("button", { name: "Apply", exact: true }).click();
  await a.page.getByText("You cancelled in your wallet; nothing was sent.").waitFor();
  assert.deepEqual(await applications(secondJobId, alice), [], "a cancelled apply changes nothing");

  await a.page.getByRole("button", { name: "Apply", exact: true }).click();
  await a.page.getByText(/was confirmed in block \d+/).waitFor();
  const [applied] = await applications(secondJobId, alice);

  const sentBefore = b.wallet.requests.filter((m) => m === "eth_sendTransaction").length;
  await b.page.getByRole("button", { name: "Apply", exact: true }).click();
  await b.page.getByText(`already have application ${applied.id} to job ${secondJobId}`).waitFor();
  assert.equal(b.wallet.requests.filter((m) => m === "eth_sendTransaction").length, sentBefore, "the revert is caught before the wallet");
  assert.equal((await applications(secondJobId, alice)).length, 1);

  await a.page.goto(new URL("me", env.boardUrl).href);
  const card = a.page.locator(`[data-application="${applied.id}"]`);
  a.wallet.rejectNext();
  await card.getByRole("button", { name: "Withdraw" }).click();
  await card.getByText("You cancelled in your wallet; nothing was sent.").waitFor();
  assert.equal((await applications(secondJobId, alice))[0].status, "SUBMITTED");

  const wrong = await openPage(browser, { account: bob });
  pages.push(wrong);
  wrong.wallet.chainId = 1;
  wrong.wallet.allowSwitch = false;
  await wrong.page.goto(new URL(`jobs/${secondJobId}`, env.boardUrl).href);
  await connect(wrong.page);
  const main = wrong.page.locator("main");
  await main.getByText("Your wallet is on Ethereum").waitFor();
  await main.getByRole("button", { name: "Switch to Local dev chain" }).click();
  await main.getByText("You declined the switch in your wallet; nothing changed.").waitFor();
  assert.equal(wrong.wallet.chainId, 1);
  assert.ok(!wrong.wallet.requests.includes("eth_sendTransaction"));
  wrong.wallet.allowSwitch = true;
  await main.getByRole("button", { name: "Switch to Local dev chain" }).click();
  await wrong.page.getByLabel("Your document (CV, cover letter…)").waitFor();
  assert.equal(wrong.wallet.chainId, env.chainId);
});

test("screenshots of the apply flow and the dashboard at 1280×800 and 360×740", async () => {
  const small = await connected(bob, `jobs/${secondJobId}`, { width: 360, height: 740 });
  await pickDocument(small.page, "cv-bob.txt", "Bob");
  await screenshot(small.page, "apply-360");
  const overflow = await small.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the apply page fits 360 px (overflows by ${overflow} px)`);

  for (const [name, viewport] of [
    ["dashboard-1280", { width: 1280, height: 800 }],
    ["dashboard-360", { width: 360, height: 740 }],
  ]) {
    const { page } = await connected(employer, "dashboard", viewport);
    const row = page.locator(`tr[data-job="${jobId}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /Wallet flow engineer/);
    assert.equal(await row.locator("td.num").nth(2).textContent(), "2", "the job's two rejected applications are counted");
    assert.ok(Number(await page.locator("tfoot td.num").nth(2).textContent()) >= 2, "and in the total");
    await screenshot(page, name);
  }
});
