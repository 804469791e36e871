//! The deployment recipe (`deploy/`: Dockerfile, Kubernetes manifests, Prometheus rules) checked
//! against the binary, since no cluster runs here: every container's arguments and
//! `JOBBOARD_*` variables parse as the real command line, ports and probes point where the
//! processes listen and answer, selectors pick the pods they mean, the alert rules name only
//! metrics a running `index` and `serve` export, and the memory requests hold what they used.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use clap::{CommandFactory, FromArgMatches};
use jobboard::cli::{Cli, Command};
use serde_norway::Value;

use crate::support::db::test_database;
use crate::support::harness::JobboardProcess;
use crate::support::manifests::{
    Container, Objects, containers, deploy_dir, documents, exported, metrics_in, selects, text,
};
use crate::support::ports::free_port;
use crate::support::scenario::{Scenario, TestChain};
use crate::support::serve::{ServeProcess, peak_rss_kib};

/// `argv` parsed as the real CLI parses it, with the test's own environment left out.
fn parse(argv: &[String]) -> Result<Command> {
    let sub = argv.get(1).context("no subcommand")?;
    let command = Cli::command().mut_subcommand(sub, |c| c.mut_args(|arg| arg.env(None)));
    let matches = command.try_get_matches_from(argv).with_context(|| format!("{argv:?}"))?;
    Ok(Cli::from_arg_matches(&matches)?.command)
}

/// Where a container's process listens for HTTP: `(port name, address)`.
fn listens(container: &Container) -> Result<(&'static str, SocketAddr)> {
    let argv = container.command_line()?;
    match parse(&argv).with_context(|| format!("{}'s command line", container.name))? {
        Command::Serve(args) => Ok(("http", args.api.listen)),
        Command::Index(args) => Ok((
            "metrics",
            args.metrics_listen.with_context(|| format!("{}: no --metrics-listen", container.name))?,
        )),
        _ => anyhow::bail!("{}: only serve and index are deployed", container.name),
    }
}

#[test]
fn manifests_run_command_lines_the_binary_accepts() -> Result<()> {
    let documents = documents(&deploy_dir().join("kubernetes"))?;
    let kustomization =
        documents.iter().find(|d| d.file.ends_with("kustomization.yaml")).context("no kustomization.yaml")?;
    let listed: BTreeSet<String> = kustomization.value["resources"]
        .as_sequence()
        .context("kustomization has no resources")?
        .iter()
        .filter_map(|r| r.as_str().map(|r| format!("kubernetes/{r}")))
        .collect();
    let files: BTreeSet<String> =
        documents.iter().map(|d| d.file.clone()).filter(|f| !f.ends_with("kustomization.yaml")).collect();
    ensure!(listed == files, "kustomization lists {listed:?}, the directory holds {files:?}");
    let objects = Objects(
        documents.iter().filter(|d| !d.file.ends_with("kustomization.yaml")).map(|d| &d.value).collect(),
    );

    let containers = containers(&objects)?;
    let subcommands: BTreeSet<&str> = containers.iter().map(Container::subcommand).collect::<Result<_>>()?;
    ensure!(subcommands == BTreeSet::from(["index", "serve"]), "deployed: {subcommands:?}");
    for container in &containers {
        // Arguments, variables and their values all parse; the port it listens on is the
        // container port of that name, on every interface.
        let (port_name, addr) = listens(container)?;
        ensure!(
            addr.ip().is_unspecified(),
            "{} listens on {addr}: unreachable from outside the pod",
            container.name
        );
        ensure!(
            container.ports.get(port_name) == Some(&addr.port()),
            "{}: port {port_name} is {:?} but the process listens on {addr}",
            container.name,
            container.ports.get(port_name)
        );
        for (path, port) in container.http_probes()? {
            ensure!(
                container.ports.contains_key(&port),
                "{}: probe {path} on unknown port {port}",
                container.name
            );
        }
        let security = &container.pod["securityContext"];
        ensure!(security["runAsNonRoot"] == Value::Bool(true), "{}: may run as root", container.name);
        container.memory_request()?;
    }
    let api = containers.iter().find(|c| c.subcommand().ok() == Some("serve")).context("no serve")?;
    let probes: BTreeSet<(String, String)> = api.http_probes()?.into_iter().collect();
    ensure!(
        probes.contains(&("/readyz".into(), "http".into()))
            && probes.contains(&("/healthz".into(), "http".into())),
        "serve's probes: {probes:?}"
    );

    // Services and disruption budgets select pods that exist, on ports those pods name.
    let deployments: Vec<&Value> = objects.of_kind("Deployment").collect();
    for service in objects.of_kind("Service") {
        let name = text(&service["metadata"], "name", "a Service")?;
        let selected: Vec<&Container> =
            containers.iter().filter(|c| selects(&service["spec"]["selector"], &c.labels)).collect();
        ensure!(!selected.is_empty(), "Service {name} selects no pod");
        for port in service["spec"]["ports"].as_sequence().context("service ports")? {
            let target = text(port, "targetPort", &format!("Service {name} (a named port)"))?;
            ensure!(
                selected.iter().all(|c| c.ports.contains_key(target)),
                "Service {name}: no port {target}"
            );
        }
    }
    let budgets: Vec<&Value> = objects.of_kind("PodDisruptionBudget").collect();
    for deployment in &deployments {
        let labels = &deployment["spec"]["template"]["metadata"]["labels"];
        ensure!(
            selects(&deployment["spec"]["selector"]["matchLabels"], labels),
            "a Deployment does not select its pods"
        );
        ensure!(
            budgets.iter().any(|b| selects(&b["spec"]["selector"]["matchLabels"], labels)),
            "Deployment {} has no PodDisruptionBudget",
            deployment["metadata"]["name"].as_str().unwrap_or("?")
        );
    }
    let indexer = deployments
        .iter()
        .find(|d| d["metadata"]["name"].as_str() == Some("jobboard-indexer"))
        .context("no jobboard-indexer")?;
    ensure!(indexer["spec"]["replicas"].as_u64() == Some(2), "the indexer runs a writer and a standby");
    check_dockerfile(&containers)
}

/// The image runs as the user the pods require, offers their ports, and sets only variables
/// the binary reads.
fn check_dockerfile(containers: &[Container]) -> Result<()> {
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile"))?;
    let runtime = dockerfile.rsplit("\nFROM ").next().context("no runtime stage")?;
    let directive = |name: &str| -> Vec<&str> {
        runtime.lines().filter_map(|line| line.strip_prefix(name).map(str::trim)).collect()
    };
    let user = directive("USER ").first().copied().context("no USER")?;
    let uid: u64 = user.split(':').next().unwrap_or_default().parse().context("USER is not numeric")?;
    ensure!(uid != 0, "the image runs as root");
    let exposed: BTreeSet<u16> = directive("EXPOSE ")
        .iter()
        .flat_map(|e| e.split_whitespace())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    for container in containers {
        ensure!(
            container.pod["securityContext"]["runAsUser"].as_u64() == Some(uid),
            "{} runs as another user than the image's {uid}",
            container.name
        );
        for port in container.ports.values() {
            ensure!(exposed.contains(port), "the image does not EXPOSE {port}");
        }
    }
    let read: BTreeSet<String> = Cli::command()
        .get_subcommands()
        .flat_map(|sub| {
            sub.get_arguments().filter_map(|a| a.get_env()).map(|e| e.to_string_lossy().into_owned())
        })
        .collect();
    for env in directive("ENV ") {
        let name = env.split('=').next().unwrap_or_default();
        ensure!(read.contains(name), "the image sets {name}, which no command reads");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_and_alerts_match_a_running_index_and_serve() -> Result<()> {
    let documents = documents(&deploy_dir().join("kubernetes"))?;
    let objects = Objects(documents.iter().map(|d| &d.value).collect());
    let containers = containers(&objects)?;
    let of =
        |sub: &str| containers.iter().find(|c| c.subcommand().ok() == Some(sub)).context("no such container");
    let (api, indexer) = (of("serve")?, of("index")?);

    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 16);
    scenario.run(&chain, 20).await?;
    let db = test_database().await?;
    let metrics_addr = format!("127.0.0.1:{}", free_port()?);
    let index = JobboardProcess::indexer("index", &chain, &db.url, &["--metrics-listen", &metrics_addr])?;
    let serve = ServeProcess::start(&db.url, chain.board, &["--no-page"]).await?;
    serve.wait_for("/readyz", 200, Duration::from_secs(60)).await?;
    let answer = serve.query("{ jobs(first: 1) { nodes { id } } }").await?;
    ensure!(answer.get("errors").is_none(), "{answer}");

    // Every probe answers 200 from the process it probes (the page is off, so an unknown path
    // would be a 404, not the page).
    for (path, _) in api.http_probes()? {
        let (status, body) = serve.get(&path).await?;
        ensure!(status == 200, "serve {path}: {status} {body}");
    }
    let client = reqwest::Client::new();
    for (path, _) in indexer.http_probes()? {
        let status = client.get(format!("http://{metrics_addr}{path}")).send().await?.status();
        ensure!(status == 200, "index {path}: {status}\n{}", index.log());
    }

    // Every metric and label the rules use is exported by one of them.
    let mut exported_now = exported(&serve.get("/metrics").await?.1);
    let indexer_metrics = client.get(format!("http://{metrics_addr}/metrics")).send().await?.text().await?;
    for (name, labels) in exported(&indexer_metrics) {
        exported_now.entry(name).or_default().extend(labels);
    }
    let rules = &documents_of("prometheus")?;
    let mut alerts = 0;
    for group in rules.iter().flat_map(|d| d["groups"].as_sequence().into_iter().flatten()) {
        for rule in group["rules"].as_sequence().context("a group without rules")? {
            let alert = text(rule, "alert", "a rule")?;
            let expr = text(rule, "expr", alert)?;
            ensure!(
                matches!(rule["labels"]["severity"].as_str(), Some("critical" | "warning" | "info")),
                "{alert}: severity must be critical, warning or info"
            );
            text(&rule["annotations"], "summary", alert)?;
            let used = metrics_in(expr);
            ensure!(!used.is_empty(), "{alert} uses no jobboard metric");
            for (metric, labels) in used {
                let offered = exported_now
                    .get(&metric)
                    .with_context(|| format!("{alert}: no metric {metric} is exported"))?;
                ensure!(
                    labels.is_subset(offered),
                    "{alert}: {metric} has labels {offered:?}, not all of {labels:?}"
                );
            }
            alerts += 1;
        }
    }
    ensure!(alerts > 0, "no alert rules");

    // The requests hold what the processes used here (deploy/README.md has the measurements).
    for (container, pid) in [(api, serve.pid()), (indexer, index.pid())] {
        let peak = peak_rss_kib(pid)? * 1024;
        ensure!(peak < container.memory_request()?, "{} used {peak} bytes, over its request", container.name);
    }
    Ok(())
}

/// The YAML documents under `deploy/<dir>`.
fn documents_of(dir: &str) -> Result<Vec<Value>> {
    Ok(documents(&deploy_dir().join(dir))?.into_iter().map(|d| d.value).collect())
}
