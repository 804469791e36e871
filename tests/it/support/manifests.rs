//! The deployment recipe in `deploy/` read as data: every YAML document, the containers of the
//! Kubernetes Deployments with the command line each would run (its arguments plus every
//! `JOBBOARD_*` variable its ConfigMaps and Secrets give it, turned into the flags they stand
//! for), and the metric names and labels the Prometheus rules use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use clap::CommandFactory;
use serde::Deserialize;
use serde_norway::Value;

use crate::support::harness::repo_root;

/// `deploy/` in the repository.
pub fn deploy_dir() -> PathBuf {
    repo_root().join("deploy")
}

/// One YAML document and the file it is in (relative to `deploy/`).
pub struct Document {
    pub file: String,
    pub value: Value,
}

/// Every document of every `.yaml` file under `dir` (which must hold some).
pub fn documents(dir: &Path) -> Result<Vec<Document>> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).with_context(|| format!("reading {}", next.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    ensure!(!files.is_empty(), "no YAML under {}", dir.display());
    let mut documents = Vec::new();
    for path in files {
        let file = path.strip_prefix(deploy_dir()).unwrap_or(&path).display().to_string();
        let text = std::fs::read_to_string(&path)?;
        for document in serde_norway::Deserializer::from_str(&text) {
            let value = Value::deserialize(document).with_context(|| format!("parsing {file}"))?;
            documents.push(Document { file: file.clone(), value });
        }
    }
    Ok(documents)
}

/// The string at `value[key]`, failing with where it was looked for.
pub fn text<'v>(value: &'v Value, key: &str, at: &str) -> Result<&'v str> {
    value[key].as_str().with_context(|| format!("{at}: no string {key}"))
}

/// The Kubernetes objects of one set of manifests.
pub struct Objects<'d>(pub Vec<&'d Value>);

impl<'d> Objects<'d> {
    /// The objects of `kind`.
    pub fn of_kind(&self, kind: &'d str) -> impl Iterator<Item = &'d Value> + '_ {
        self.0.iter().copied().filter(move |o| o["kind"].as_str() == Some(kind))
    }

    /// The object of `kind` called `name`.
    pub fn named(&self, kind: &str, name: &str) -> Result<&'d Value> {
        self.0
            .iter()
            .copied()
            .find(|o| o["kind"].as_str() == Some(kind) && o["metadata"]["name"].as_str() == Some(name))
            .with_context(|| format!("no {kind} {name}"))
    }

    /// The variables a ConfigMap (`data`) or Secret (`stringData`) called `name` gives.
    fn variables(&self, kind: &str, name: &str) -> Result<BTreeMap<String, String>> {
        let object = self.named(kind, name)?;
        let data = if kind == "Secret" { &object["stringData"] } else { &object["data"] };
        let mapping = data.as_mapping().with_context(|| format!("{kind} {name} has no string data"))?;
        mapping
            .iter()
            .map(|(key, value)| {
                let key = key.as_str().context("a non-string key")?;
                let value =
                    value.as_str().with_context(|| format!("{kind} {name}: {key} is not a string"))?;
                Ok((key.to_owned(), value.to_owned()))
            })
            .collect()
    }
}

/// A container of a Deployment, as it would run.
pub struct Container {
    /// `deployment/container`, for messages.
    pub name: String,
    /// The labels of the Deployment's pods.
    pub labels: Value,
    /// The Deployment's pod spec.
    pub pod: Value,
    /// The container itself.
    pub spec: Value,
    /// Its `args` (the subcommand first).
    pub args: Vec<String>,
    /// Every variable it gets, and from where.
    pub env: BTreeMap<String, String>,
    /// Its named ports.
    pub ports: BTreeMap<String, u16>,
}

impl Container {
    /// The subcommand it runs.
    pub fn subcommand(&self) -> Result<&str> {
        self.args.first().map(String::as_str).with_context(|| format!("{}: no args", self.name))
    }

    /// `jobboard <args> --flag value …`: its arguments, then every variable as the flag whose
    /// `env` it is. Fails naming a variable the subcommand does not read.
    pub fn command_line(&self) -> Result<Vec<String>> {
        let sub = self.subcommand()?;
        let cli = jobboard::cli::Cli::command();
        let command =
            cli.find_subcommand(sub).with_context(|| format!("{}: no subcommand {sub}", self.name))?;
        let mut argv = vec!["jobboard".to_owned()];
        argv.extend(self.args.iter().cloned());
        for (name, value) in &self.env {
            let arg = command
                .get_arguments()
                .find(|arg| arg.get_env().is_some_and(|env| env == name.as_str()))
                .with_context(|| format!("{}: `jobboard {sub}` reads no {name}", self.name))?;
            let long =
                arg.get_long().with_context(|| format!("{name} belongs to an argument with no flag"))?;
            if arg.get_action().takes_values() {
                argv.extend([format!("--{long}"), value.clone()]);
            } else if value == "true" {
                argv.push(format!("--{long}"));
            }
        }
        Ok(argv)
    }

    /// The probes' `(path, port name)`, every kind of probe.
    pub fn http_probes(&self) -> Result<Vec<(String, String)>> {
        let mut probes = Vec::new();
        for kind in ["readinessProbe", "livenessProbe", "startupProbe"] {
            let probe = &self.spec[kind];
            if probe.is_null() {
                continue;
            }
            let get = &probe["httpGet"];
            let path = text(get, "path", &format!("{} {kind}", self.name))?;
            let port = text(get, "port", &format!("{} {kind} (a named port)", self.name))?;
            probes.push((path.to_owned(), port.to_owned()));
        }
        Ok(probes)
    }

    /// Its memory request, in bytes.
    pub fn memory_request(&self) -> Result<u64> {
        let quantity = text(&self.spec["resources"]["requests"], "memory", &self.name)?;
        bytes(quantity)
    }
}

/// The containers of every Deployment in `objects`.
pub fn containers(objects: &Objects<'_>) -> Result<Vec<Container>> {
    let mut out = Vec::new();
    for deployment in objects.of_kind("Deployment") {
        let pod = &deployment["spec"]["template"]["spec"];
        let deployment_name = text(&deployment["metadata"], "name", "a Deployment")?;
        for spec in pod["containers"].as_sequence().context("no containers")? {
            let name = format!("{deployment_name}/{}", text(spec, "name", deployment_name)?);
            let args = spec["args"]
                .as_sequence()
                .with_context(|| format!("{name}: no args"))?
                .iter()
                .map(|a| a.as_str().map(str::to_owned).context("a non-string arg"))
                .collect::<Result<Vec<String>>>()?;
            let mut env = BTreeMap::new();
            for from in spec["envFrom"].as_sequence().into_iter().flatten() {
                let (kind, reference) = match (&from["configMapRef"], &from["secretRef"]) {
                    (config, Value::Null) if !config.is_null() => ("ConfigMap", config),
                    (Value::Null, secret) if !secret.is_null() => ("Secret", secret),
                    _ => bail!("{name}: an envFrom that is neither configMapRef nor secretRef"),
                };
                env.extend(objects.variables(kind, text(reference, "name", &name)?)?);
            }
            for variable in spec["env"].as_sequence().into_iter().flatten() {
                let key = text(variable, "name", &name)?;
                let value = text(variable, "value", &format!("{name} env {key} (only literal values)"))?;
                env.insert(key.to_owned(), value.to_owned());
            }
            let mut ports = BTreeMap::new();
            for port in spec["ports"].as_sequence().into_iter().flatten() {
                let number = port["containerPort"].as_u64().context("containerPort")?;
                ports.insert(text(port, "name", &name)?.to_owned(), u16::try_from(number)?);
            }
            let labels = deployment["spec"]["template"]["metadata"]["labels"].clone();
            out.push(Container { name, labels, pod: pod.clone(), spec: spec.clone(), args, env, ports });
        }
    }
    Ok(out)
}

/// Whether `selector` (a `matchLabels` map) picks pods labelled `labels`.
pub fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_mapping()
        .is_some_and(|wanted| !wanted.is_empty() && wanted.iter().all(|(k, v)| &labels[k] == v))
}

/// A Kubernetes memory quantity (`128Mi`, `1Gi`, `500M`, `1000`) in bytes.
pub fn bytes(quantity: &str) -> Result<u64> {
    let split = quantity.find(|c: char| !c.is_ascii_digit()).unwrap_or(quantity.len());
    let (number, unit) = quantity.split_at(split);
    let number: u64 = number.parse().with_context(|| format!("quantity {quantity}"))?;
    let scale: u64 = match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => bail!("unit {unit} of {quantity}"),
    };
    Ok(number * scale)
}

/// The `jobboard_*` metrics a PromQL expression names, each with the label names its selector
/// matches on (`name{a="x", b=~"y"}` gives `a`, `b`).
pub fn metrics_in(expr: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut rest = expr;
    while let Some(start) = rest.find("jobboard_") {
        let tail = &rest[start..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        let labels = found.entry(tail[..end].to_owned()).or_default();
        rest = &tail[end..];
        if let Some(selector) = rest.strip_prefix('{')
            && let Some(close) = selector.find('}')
        {
            for matcher in selector[..close].split(',') {
                let name = matcher.split(['=', '!']).next().unwrap_or_default().trim();
                if !name.is_empty() {
                    labels.insert(name.to_owned());
                }
            }
            rest = &selector[close..];
        }
    }
    found
}

/// The metrics a Prometheus text exposition offers, each with the label names its samples
/// carry; a histogram's `_bucket`, `_sum` and `_count` series count as metrics of their own.
pub fn exported(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut metrics: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let mut words = declared.split_whitespace();
            if let (Some(name), Some(kind)) = (words.next(), words.next()) {
                metrics.entry(name.to_owned()).or_default();
                if kind == "histogram" {
                    for suffix in ["_bucket", "_sum", "_count"] {
                        metrics.entry(format!("{name}{suffix}")).or_default();
                    }
                }
            }
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            let labels = metrics.entry(line[..end].to_owned()).or_default();
            if let Some(selector) = line[end..].strip_prefix('{')
                && let Some(close) = selector.find('}')
            {
                for pair in selector[..close].split(',') {
                    if let Some((name, _)) = pair.split_once('=') {
                        labels.insert(name.trim().to_owned());
                    }
                }
            }
        }
    }
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promql_selectors_give_their_metrics_and_labels() {
        let found = metrics_in(
            "sum(rate(jobboard_rpc_calls_total{result=~\"a|b\", method!=\"x\"}[5m])) / sum(jobboard_lag_blocks)",
        );
        assert_eq!(found["jobboard_rpc_calls_total"], BTreeSet::from(["result".into(), "method".into()]));
        assert!(found["jobboard_lag_blocks"].is_empty());
    }

    #[test]
    fn expositions_give_histogram_series_and_labels() {
        let text = "# TYPE jobboard_x_seconds histogram\njobboard_x_seconds_bucket{op=\"q\",le=\"0.1\"} 1\n";
        let metrics = exported(text);
        assert!(metrics.contains_key("jobboard_x_seconds_count"));
        assert_eq!(metrics["jobboard_x_seconds_bucket"], BTreeSet::from(["op".into(), "le".into()]));
    }

    #[test]
    fn memory_quantities_in_bytes() -> Result<()> {
        assert_eq!(bytes("128Mi")?, 128 << 20);
        assert_eq!(bytes("1G")?, 1_000_000_000);
        assert!(bytes("12Qi").is_err());
        Ok(())
    }
}
