// What the browser tests share: a real Chromium (Debian's, driven by playwright-core; no
// browser download), a page with a test wallet injected before the board's scripts run, the
// board's CLI, and screenshots under target/.
//
// The Rust test `tests/it/web.rs` starts `jobboard dev` and runs these files with node --test,
// passing where everything is in the environment:
//   BOARD_URL      the page, e.g. http://127.0.0.1:8000/
//   RPC_URL        anvil
//   CONTRACT       the board's address
//   CHAIN_ID       its chain id
//   CHAINS         with several boards (`jobboard dev --chains 2`): every chain the test wallet
//                  knows, as chainId=rpcUrl pairs separated by commas; default CHAIN_ID=RPC_URL
//   JOBBOARD_BIN   the jobboard binary (for `job post`, `application verify`)
//   EMPLOYER_KEY   the private key of anvil's dev account 1, the demo's first employer (the
//                  banner prints it), for the CLI. Accounts: 0 deployer, 1-5 the demo's
//                  employers, 6-9 its applicants, 10-19 unused: the tests' own (unlocked, so
//                  the test wallet sends from them without a key)
//   SCREENSHOT_DIR where screenshots go
//   CHROMIUM       the browser (default /usr/bin/chromium)

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

/** The environment the Rust test passes, checked once. */
export const env = (() => {
  const need = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run the browser tests through \`cargo test --test it web\``);
    return value;
  };
  const rpcUrl = need("RPC_URL");
  const chainId = Number(need("CHAIN_ID"));
  const chains = new Map(
    (process.env.CHAINS ?? `${chainId}=${rpcUrl}`).split(",").map((pair) => {
      const [id, url] = pair.split("=");
      return [Number(id), url];
    }),
  );
  return {
    boardUrl: need("BOARD_URL").replace(/\/?$/, "/"),
    rpcUrl,
    contract: need("CONTRACT").toLowerCase(),
    chainId,
    /** chain id → anvil's URL: the chains the test wallet can be on. */
    chains,
    bin: need("JOBBOARD_BIN"),
    employerKey: need("EMPLOYER_KEY"),
    screenshots: process.env.SCREENSHOT_DIR ?? "target/web-screenshots",
    chromium: process.env.CHROMIUM ?? "/usr/bin/chromium",
  };
})();

/** The address of anvil's dev account `index` (derived by anvil; asked from it once). */
let accountsCache = null;
export async function account(index) {
  if (!accountsCache) accountsCache = await rpc("eth_accounts", []);
  const address = accountsCache[index];
  if (!address) throw new Error(`anvil has no dev account ${index}`);
  return address.toLowerCase();
}

let rpcId = 0;
/** One JSON-RPC call to anvil (the first chain's, or `url`); returns the whole answer ({result} or {error}). */
export async function rpcRaw(method, params, url = env.rpcUrl) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
  });
  return response.json();
}

/** One JSON-RPC call to anvil (the first chain's, or `url`); throws on an error answer. */
export async function rpc(method, params, url = env.rpcUrl) {
  const answer = await rpcRaw(method, params, url);
  if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result;
}

/** Starts Debian's Chromium headless, with what this closed network needs. */
export async function launch() {
  return chromium.launch({
    executablePath: env.chromium,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A browser page with a test wallet: an EIP-1193 provider announced over EIP-6963 and set as
 * window.ethereum, injected before the page's own scripts. It answers the account and chain
 * questions itself, as a wallet would, and forwards everything else to the anvil of the chain
 * it is on (whose dev accounts are unlocked, so eth_sendTransaction needs no key). It knows the
 * chains of CHAINS; a switch to another answers 4902 (unknown chain) until it is added. The
 * returned `wallet` is the user's hand on it:
 *   wallet.rejectNext()        the next transaction (or signature) is rejected, code 4001
 *   wallet.chainId             the chain the wallet is on (set it to pretend another chain)
 *   wallet.allowSwitch         false: a switch (or add) request is rejected like a user would
 *   wallet.account             the connected address (null: no wallet injected)
 *   wallet.requests            every method the page asked for, in order
 *   wallet.sent                the chain of each transaction sent, in order
 */
export async function openPage(browser, { account: address = null, viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const wallet = {
    account: address,
    chainId: env.chainId,
    allowSwitch: true,
    rejecting: false,
    requests: [],
    added: new Set(),
    sent: [],
    rejectNext() {
      this.rejecting = true;
    },
  };
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  if (address) {
    await page.exposeBinding("__testWallet", async (_source, method, params) => {
      wallet.requests.push(method);
      const reject = (code, message) => ({ error: { code, message } });
      const node = env.chains.get(wallet.chainId);
      switch (method) {
        case "eth_chainId":
          return { result: `0x${wallet.chainId.toString(16)}` };
        case "net_version":
          return { result: String(wallet.chainId) };
        case "eth_accounts":
        case "eth_requestAccounts":
          return { result: [wallet.account] };
        case "wallet_switchEthereumChain":
        case "wallet_addEthereumChain": {
          if (!wallet.allowSwitch) return reject(4001, "User rejected the request.");
          const target = Number(BigInt(params?.[0]?.chainId ?? "0x0"));
          if (method === "wallet_switchEthereumChain" && !env.chains.has(target) && !wallet.added.has(target)) {
            return reject(4902, `Unrecognized chain ID ${params?.[0]?.chainId}.`);
          }
          if (method === "wallet_addEthereumChain") wallet.added.add(target);
          wallet.chainId = target;
          await page.evaluate((id) => window.__testWalletEmit("chainChanged", id), `0x${wallet.chainId.toString(16)}`);
          return { result: null };
        }
        case "eth_sendTransaction":
        case "personal_sign":
        case "eth_signTypedData_v4": {
          if (wallet.rejecting) {
            wallet.rejecting = false;
            return reject(4001, "User rejected the request.");
          }
          if (!node) return reject(-32000, "the test wallet is not on a chain of the board");
          const tx = { ...(params?.[0] ?? {}), from: wallet.account };
          wallet.sent.push(wallet.chainId);
          return rpcRaw(method, [tx, ...(params?.slice(1) ?? [])], node);
        }
        default:
          if (!node) return reject(-32000, "the test wallet is not on a chain of the board");
          return rpcRaw(method, params ?? [], node);
      }
    });
    await page.addInitScript(() => {
      const listeners = new Map();
      const provider = {
        isTestWallet: true,
        async request({ method, params }) {
          const answer = await window.__testWallet(method, params ?? []);
          if (answer && answer.error) {
            const error = new Error(answer.error.message);
            error.code = answer.error.code;
            if (answer.error.data !== undefined) error.data = answer.error.data;
            throw error;
          }
          return answer ? answer.result : null;
        },
        on(event, listener) {
          if (!listeners.has(event)) listeners.set(event, new Set());
          listeners.get(event).add(listener);
          return provider;
        },
        removeListener(event, listener) {
          listeners.get(event)?.delete(listener);
          return provider;
        },
      };
      window.__testWalletEmit = (event, value) => {
        for (const listener of listeners.get(event) ?? []) listener(value);
      };
      window.ethereum = provider;
      const info = Object.freeze({
        uuid: "9f1d2c3b-0000-4000-8000-00000000beef",
        name: "Test Wallet",
        icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'%3E%3Crect width='8' height='8' fill='%23888'/%3E%3C/svg%3E",
        rdns: "org.jobboard.test-wallet",
      });
      const announce = () =>
        window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
      window.addEventListener("eip6963:requestProvider", announce);
      announce();
    });
  }
  return { context, page, wallet, problems };
}

/** Saves a full-page screenshot as `<SCREENSHOT_DIR>/<name>.png`; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(env.screenshots, { recursive: true });
  const path = join(env.screenshots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Runs the board's CLI against the dev chain; returns stdout, throws with stderr on failure. */
export function cli(args, { key = null, extraEnv = {} } = {}) {
  const run = spawnSync(env.bin, args, {
    encoding: "utf8",
    env: {
      ...process.env,
      JOBBOARD_RPC_URL: env.rpcUrl,
      JOBBOARD_CONTRACT: env.contract,
      ...(key ? { JOBBOARD_PRIVATE_KEY: key } : {}),
      ...extraEnv,
    },
  });
  if (run.status !== 0) throw new Error(`jobboard ${args.join(" ")} failed (${run.status}):\n${run.stderr}\n${run.stdout}`);
  return run.stdout;
}

/** A GraphQL query against the board (for checking what the page should show). */
export async function query(text, variables = {}) {
  const response = await fetch(new URL("graphql", env.boardUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: text, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${text}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** A job card on the page. */
export const CARD = "[data-testid=job-card]";

/** The cards of the page's job list, in order: their job ids, or "chainId/id" with `withChain`
 * (ids repeat on every chain of a multi-chain board). */
export function cardIds(page, { withChain = false } = {}) {
  return page.$$eval(
    CARD,
    (cards, chain) => cards.map((card) => (chain ? `${card.dataset.chainId}/${card.dataset.jobId}` : card.dataset.jobId)),
    withChain,
  );
}

/** Waits until the page's cards are exactly `ids`, keyed as `cardIds` keys them (the list
 * reloads after a debounce); fails with the difference after 5 s. */
export async function waitForCards(page, ids, { withChain = false } = {}) {
  try {
    await page.waitForFunction(
      ([selector, want, chain]) => {
        if (document.querySelector(".job-list-wrap")?.getAttribute("aria-busy") === "true") return false;
        const have = [...document.querySelectorAll(selector)].map((card) =>
          chain ? `${card.dataset.chainId}/${card.dataset.jobId}` : card.dataset.jobId,
        );
        return JSON.stringify(have) === JSON.stringify(want);
      },
      [CARD, ids, withChain],
      { timeout: 5000 },
    );
  } catch {
    assert.deepEqual(await cardIds(page, { withChain }), ids, "the page's cards differ from the API's answer");
  }
}

/** Resolves once the page has sent its first GraphQL subscription; call it before `goto`. */
export function firstSubscription(page) {
  return new Promise((resolve) => {
    page.on("websocket", (socket) =>
      socket.on("framesent", (frame) => {
        if (String(frame.payload).includes('"subscribe"')) resolve();
      }),
    );
  });
}

/** Fails the test if the page threw or logged an error. */
export function noProblems(problems) {
  assert.deepEqual(problems, [], "the page reported errors");
}

/** Connects the page's test wallet through the header's button. */
export async function connect(page) {
  await page.locator("#wallet").getByRole("button", { name: "Connect wallet" }).click();
  await page.locator("#wallet .wallet-account").waitFor();
}

/** Picks `name` with `text` in the apply form; resolves once the hashes are shown. */
export async function pickDocument(page, name, text) {
  await page.getByLabel("Your document (CV, cover letter…)").setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from(text) });
  await page.getByRole("button", { name: "Download receipt" }).waitFor();
}
