//! Critical tasks: `jobboard run` stops promptly, non-zero and naming the cause, when it cannot
//! have what it cannot do without (here its API's address). How the tasks stop one another is
//! tested in `jobboard::tasks`' own tests.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};

#[test]
fn run_exits_promptly_naming_a_taken_listen_address() -> Result<()> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = taken.local_addr()?.to_string();
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobboard"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("JOBBOARD_")) {
        command.env_remove(name);
    }
    // Nothing listens at the node or database addresses: the address is checked first.
    let mut child = command
        .args(["run", "--listen", &addr, "--rpc-url", "http://127.0.0.1:9"])
        .args(["--database-url", "postgres://jobboard@127.0.0.1:9/jobboard"])
        .args(["--contract", "0x5fbdb2315678afecb367f032d93f642f64180aa3", "--start-block", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill()?;
            anyhow::bail!("`jobboard run` still running 30 s after its --listen address was found taken");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::io::read_to_string(child.stderr.take().ok_or_else(|| anyhow::anyhow!("no stderr"))?)?;
    ensure!(!status.success(), "exited with {status}; stderr: {stderr}");
    ensure!(stderr.contains(&format!("listening on --listen {addr}")), "{stderr}");
    drop(taken);
    Ok(())
}
