// The board's web page: build, check and unit-test it.
//
//   node scripts/web.mjs build   bundle web/ into web/dist (hashed names, .gz and .br beside each)
//   node scripts/web.mjs check   type-check, rebuild into a temporary directory, fail if it
//                                differs from the committed web/dist or if the first page's
//                                JavaScript is over budget
//   node scripts/web.mjs test    the page's pure logic (hashing vectors, receipts, Markdown) under node --test
//
// web/dist is committed so that `cargo build` needs no Node and the binary embeds the page
// (build.rs); `check` keeps it honest, like scripts/artifact.mjs does for the contract.

import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");
const committed = join(web, "dist");

/** Gzipped JavaScript the first page may load, in bytes (issue 13's budget). */
const BUDGET_GZIP_JS = 150 * 1024;

/** Files served as they are (no hashing): the HTML shell and what browsers ask for by name. */
const COMPRESSIBLE = /\.(js|css|html|svg|json|txt)$/;

async function bundle(out) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, "assets"), { recursive: true });
  const result = await build({
    entryPoints: { app: join(web, "src/main.ts"), style: join(web, "src/style.css") },
    bundle: true,
    minify: true,
    format: "esm",
    // Code only some views need (the Markdown renderer, for one) loads when they first render.
    splitting: true,
    target: ["es2022", "chrome111", "firefox115", "safari16"],
    outdir: join(out, "assets"),
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    assetNames: "[name]-[hash]",
    metafile: true,
    legalComments: "linked",
    logLevel: "warning",
    charset: "utf8",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => relative(out, join(root, file)));
  const script = outputs.find((file) => /^assets\/app-[A-Z0-9]+\.js$/.test(file));
  const style = outputs.find((file) => /^assets\/style-[A-Z0-9]+\.css$/.test(file));
  if (!script || !style) throw new Error(`unexpected outputs: ${outputs.join(", ")}`);
  const html = readFileSync(join(web, "index.html"), "utf8")
    .replaceAll("%SCRIPT%", `/${script}`)
    .replaceAll("%STYLE%", `/${style}`);
  writeFileSync(join(out, "index.html"), html);
  writeFileSync(join(out, "favicon.svg"), readFileSync(join(web, "favicon.svg")));
  for (const file of listFiles(out)) {
    if (!COMPRESSIBLE.test(file)) continue;
    const bytes = readFileSync(join(out, file));
    writeFileSync(join(out, `${file}.gz`), gzipSync(bytes, { level: 9 }));
    writeFileSync(
      join(out, `${file}.br`),
      brotliCompressSync(bytes, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
      }),
    );
  }
  // The first page loads the entry and, before running it, every chunk it imports statically;
  // chunks behind import() load later, when a view needs them.
  const firstPage = new Set();
  const visit = (file) => {
    const relativePath = relative(out, join(root, file));
    if (firstPage.has(relativePath)) return;
    firstPage.add(relativePath);
    for (const imported of result.metafile.outputs[file]?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
    }
  };
  visit(Object.keys(result.metafile.outputs).find((file) => relative(out, join(root, file)) === script));
  return { script, style, firstPage: [...firstPage].sort() };
}

function listFiles(dir, prefix = "") {
  const files = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...listFiles(dir, path));
    else files.push(path);
  }
  return files.sort();
}

function report(dir, { firstPage }) {
  const size = (file) => statSync(join(dir, file)).size;
  const raw = firstPage.reduce((sum, file) => sum + size(file), 0);
  const gz = firstPage.reduce((sum, file) => sum + size(`${file}.gz`), 0);
  const all = listFiles(dir).filter((file) => file.endsWith(".js"));
  const allGz = all.reduce((sum, file) => sum + size(`${file}.gz`), 0);
  console.log(
    `web: first page loads ${firstPage.length} scripts, ${(raw / 1024).toFixed(1)} KiB, ` +
      `${(gz / 1024).toFixed(1)} KiB gzipped (budget ${BUDGET_GZIP_JS / 1024} KiB); ` +
      `all ${all.length} scripts ${(allGz / 1024).toFixed(1)} KiB gzipped`,
  );
  if (gz > BUDGET_GZIP_JS) {
    console.error(`web: the first page's JavaScript is ${gz} bytes gzipped, over the ${BUDGET_GZIP_JS}-byte budget`);
    process.exit(1);
  }
}

function typecheck() {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const run = spawnSync(process.execPath, [tsc, "--noEmit", "-p", join(web, "tsconfig.json")], { stdio: "inherit" });
  if (run.status !== 0) {
    console.error("web: the page does not type-check");
    process.exit(1);
  }
}

async function unitTests() {
  const tests = readdirSync(join(web, "test")).filter((file) => file.endsWith(".test.ts"));
  const out = mkdtempSync(join(tmpdir(), "jobboard-web-test-"));
  try {
    await build({
      entryPoints: tests.map((file) => join(web, "test", file)),
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outdir: out,
      outExtension: { ".js": ".mjs" },
      logLevel: "warning",
    });
    const files = readdirSync(out).map((file) => join(out, file));
    const run = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit", cwd: root });
    if (run.status !== 0) process.exit(1);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
if (mode === "build") {
  report(committed, await bundle(committed));
} else if (mode === "check") {
  typecheck();
  const fresh = mkdtempSync(join(tmpdir(), "jobboard-web-"));
  try {
    const names = await bundle(fresh);
    const want = listFiles(fresh);
    let have = [];
    try {
      have = listFiles(committed);
    } catch {
      have = [];
    }
    const differ = [...new Set([...want, ...have])].filter((file) => {
      try {
        return !readFileSync(join(fresh, file)).equals(readFileSync(join(committed, file)));
      } catch {
        return true;
      }
    });
    if (differ.length > 0) {
      console.error(`web: web/dist is not a fresh build of web/ (differs: ${differ.join(", ")}); run \`node scripts/web.mjs build\` and commit web/dist`);
      process.exit(1);
    }
    report(fresh, names);
    const digest = createHash("sha256");
    for (const file of want) digest.update(readFileSync(join(fresh, file)));
    console.log(`web: web/dist matches a fresh build (${want.length} files, sha256 ${digest.digest("hex").slice(0, 16)})`);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
} else if (mode === "test") {
  await unitTests();
} else {
  console.error("usage: node scripts/web.mjs build|check|test");
  process.exit(2);
}
