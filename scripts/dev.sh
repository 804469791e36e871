#!/usr/bin/env bash
# The main job, run by `make dev`: a local anvil chain with a freshly deployed JobBoard.
#
# Until the indexer and API land, this is the whole local stack: it starts anvil, deploys
# the contract from Rust (`jobboard deploy`), prints where it is, and waits. Ctrl-C stops
# everything it started.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

port="${ANVIL_PORT:-8545}"
anvil_bin="$root/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
# anvil's first dev account: a publicly known key that only ever holds test ether.
dev_key="0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

if [[ ! -x "$anvil_bin" ]]; then
  echo "dev: anvil is not installed at $anvil_bin; run 'npm ci' (make dev does it for you)" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "dev: port $port is already in use; stop what listens there or set ANVIL_PORT=<free port>" >&2
  exit 1
fi

echo "dev: building jobboard"
cargo build --quiet --bin jobboard
jobboard=(cargo run --quiet --bin jobboard --)

anvil_log="$(mktemp -t jobboard-anvil.XXXXXX.log)"
# Start the real binary, not the Node wrapper: a killed wrapper would orphan anvil.
"$anvil_bin" --host 127.0.0.1 --port "$port" >"$anvil_log" 2>&1 &
anvil_pid=$!
cleanup() {
  kill "$anvil_pid" 2>/dev/null || true
  wait "$anvil_pid" 2>/dev/null || true
  rm -f "$anvil_log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 100); do
  grep -q "Listening on" "$anvil_log" && break
  kill -0 "$anvil_pid" 2>/dev/null || { cat "$anvil_log" >&2; echo "dev: anvil exited" >&2; exit 1; }
  sleep 0.1
done

rpc="http://127.0.0.1:$port"
echo "dev: anvil listening on $rpc (chain id 31337)"
JOBBOARD_PRIVATE_KEY="$dev_key" "${jobboard[@]}" deploy --rpc-url "$rpc"
echo "dev: ready. Ctrl-C stops the chain."
wait "$anvil_pid"
