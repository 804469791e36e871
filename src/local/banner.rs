//! The text `jobboard dev` prints once the board is up: where the page, the API, the chain and
//! the data are, three queries to try, and how to act as the demo's employer. Beside the
//! local stack it describes (`super::dev`); printed by `crate::app`.

use std::net::SocketAddr;

use super::dev::DevStack;

/// Where the running binary is (its real path, wherever CARGO_TARGET_DIR put it) and how to
/// call it by name.
fn on_path_hint(exe: Option<&std::path::Path>) -> String {
    match exe.and_then(|exe| Some((exe, exe.parent()?))) {
        Some((exe, dir)) => format!(
            "  (jobboard is {}: `export PATH=\"{}:$PATH\"` puts it on PATH, or `cargo install --path .` \
             copies it to ~/.cargo/bin)",
            exe.display(),
            dir.display()
        ),
        None => "  (`cargo install --path .` puts jobboard on PATH)".to_owned(),
    }
}

/// What a newcomer needs once the board is up: where things are and what to try.
pub fn dev_banner(stack: &DevStack, listen: SocketAddr) -> String {
    use std::fmt::Write as _;
    let page = format!("http://{listen}/");
    let api = format!("{page}graphql");
    let rpc = stack.anvil.endpoint.as_str().trim_end_matches('/').to_owned();
    let board = stack.board;
    let mut text = String::new();
    let resumed = if stack.resumed { " (resumed: same chain and data as last time)" } else { "" };
    let _ = writeln!(text, "\njobboard dev is up{resumed}\n");
    let _ = writeln!(text, "  Board      {page}   (the job board's page: open it in a browser)");
    let _ = writeln!(text, "  GraphiQL   {api}");
    let _ = writeln!(
        text,
        "  chain      {rpc}   chain id {}; JobBoard at {} (deployed in block {})",
        board.chain_id, board.address, board.deploy_block
    );
    for other in &stack.others {
        let _ = writeln!(
            text,
            "  chain      {}   chain id {}; JobBoard at {} (deployed in block {})",
            other.anvil.endpoint.as_str().trim_end_matches('/'),
            other.board.chain_id,
            other.board.address,
            other.board.deploy_block
        );
    }
    if !stack.others.is_empty() {
        let _ = writeln!(
            text,
            "  boards     {}   (every chain, indexed by this process and served by one API: lists merge the chains, lookups take `chainId`)",
            stack.boards_path().display(),
        );
    }
    let _ = writeln!(text, "  database   {}", stack.database_url());
    let _ = writeln!(
        text,
        "  data       {}   (kept across runs; `make dev-reset` starts clean)",
        stack.data_dir.display()
    );
    let _ = writeln!(text, "\nThree queries to try (paste them into GraphiQL, or run the curl lines):");
    let queries: Vec<(&str, String)> = if stack.others.is_empty() {
        super::demo::EXAMPLE_QUERIES.iter().map(|(title, query)| (*title, (*query).to_owned())).collect()
    } else {
        super::demo::example_queries_on(board.chain_id)
    };
    for (n, (title, query)) in queries.iter().enumerate() {
        let compact = query.split_whitespace().collect::<Vec<_>>().join(" ");
        let body = serde_json::json!({ "query": compact }).to_string().replace('\'', "'\\''");
        let _ = writeln!(text, "\n  {}. {title}", n + 1);
        for line in query.lines() {
            let _ = writeln!(text, "     {line}");
        }
        let _ = writeln!(text, "     curl -s {api} -H 'content-type: application/json' -d '{body}'");
    }
    // anvil's public dev keys, in hex; empty if anvil gave fewer (then the line shows none).
    let dev_key = |account: usize| {
        stack
            .anvil
            .keys
            .get(account)
            .map(|k| format!("0x{}", alloy::hex::encode(k.to_bytes())))
            .unwrap_or_default()
    };
    let (employer_key, wallet_key) = (dev_key(1), dev_key(10));
    let _ = writeln!(
        text,
        "\nUse the page with a browser wallet: add the network {rpc} (chain id {}), then import\n  \
         anvil dev account 10, left unused by the demo (a public test key): {wallet_key}",
        board.chain_id
    );
    let _ = writeln!(text, "\nAct as the demo's first employer (anvil dev account 1; a public test key):");
    let _ = writeln!(text, "  export JOBBOARD_RPC_URL={rpc} JOBBOARD_CONTRACT={}", board.address);
    let _ = writeln!(text, "  export JOBBOARD_PRIVATE_KEY={employer_key}");
    let _ = writeln!(
        text,
        "  jobboard job post --title 'Staff Engineer' --company 'Tidewater Labs' --location Remote"
    );
    let _ = writeln!(text, "{}", on_path_hint(std::env::current_exe().ok().as_deref()));
    let _ = write!(text, "\nCtrl-C stops everything.");
    text
}
