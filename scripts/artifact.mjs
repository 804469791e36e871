#!/usr/bin/env node
// Keeps contracts/artifacts/JobBoard.json (the ABI and bytecode the Rust side compiles
// against) equal to what `forge build` produces from contracts/src.
//
//   node scripts/artifact.mjs export   write the artifact from contracts/out
//   node scripts/artifact.mjs check    fail if the artifact differs from contracts/out
//
// Run `forge build` first; both modes read its output.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "contracts/out/JobBoard.sol/JobBoard.json");
const committed = join(root, "contracts/artifacts/JobBoard.json");
const foundry = readFileSync(join(root, "contracts/foundry.toml"), "utf8");
const solc = JSON.parse(readFileSync(join(root, "node_modules/solc/package.json"), "utf8")).version;

function setting(key) {
  const match = foundry.match(new RegExp(`^${key}\\s*=\\s*"?([^"\\n]+)"?`, "m"));
  return match ? match[1].trim() : null;
}

function fresh() {
  let out;
  try {
    out = JSON.parse(readFileSync(built, "utf8"));
  } catch (err) {
    console.error(`artifact: cannot read ${built} (${err.message}); run 'forge build' in contracts/ first`);
    process.exit(2);
  }
  return {
    contractName: "JobBoard",
    source: "contracts/src/JobBoard.sol",
    compiler: {
      solc,
      optimizer: setting("optimizer") === "true",
      optimizerRuns: Number(setting("optimizer_runs")),
      evmVersion: setting("evm_version"),
    },
    abi: out.abi,
    bytecode: out.bytecode.object,
    deployedBytecode: out.deployedBytecode.object,
  };
}

const mode = process.argv[2];
const artifact = fresh();
const text = JSON.stringify(artifact, null, 2) + "\n";
if (mode === "export") {
  writeFileSync(committed, text);
  console.log(`artifact: wrote ${committed}`);
} else if (mode === "check") {
  let current;
  try {
    current = JSON.parse(readFileSync(committed, "utf8"));
  } catch (err) {
    console.error(`artifact: cannot read ${committed} (${err.message}); run 'make artifact'`);
    process.exit(1);
  }
  const drift = ["abi", "bytecode", "deployedBytecode", "compiler"].filter(
    (key) => JSON.stringify(current[key]) !== JSON.stringify(artifact[key]),
  );
  if (drift.length > 0) {
    console.error(`artifact: ${committed} differs from a fresh build in: ${drift.join(", ")}`);
    console.error("artifact: run 'make artifact' and commit the result (the Rust bindings are generated from it)");
    process.exit(1);
  }
  console.log(`artifact: contracts/artifacts/JobBoard.json matches a fresh build (${artifact.deployedBytecode.length / 2 - 1} bytes of runtime code)`);
} else {
  console.error("usage: node scripts/artifact.mjs export|check");
  process.exit(2);
}
