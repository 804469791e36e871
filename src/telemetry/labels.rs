//! `/metrics` of a process indexing several boards: each board's metrics (its own
//! [`Metrics`]) with a `chain_id` label on every series, one family at a time as Prometheus'
//! text format requires (all samples of a metric name under one `# HELP` and `# TYPE`).
//!
//! Each board's text comes from [`Metrics::render`], the one renderer; this only regroups its
//! lines, which it reads in the form that renderer writes (`# HELP name …`, `# TYPE name …`,
//! `name value` or `name{labels} value`).

use super::Metrics;

/// One metric family: its header lines and its samples from every board.
struct Family {
    name: String,
    header: Vec<String>,
    samples: Vec<String>,
}

/// Every board's metrics in one exposition, each sample labelled `chain_id="<id>"`.
pub fn render_boards(boards: &[(u64, Metrics)]) -> String {
    let mut families: Vec<Family> = Vec::new();
    for (chain_id, metrics) in boards {
        let mut current: Option<usize> = None;
        for line in metrics.render().lines() {
            if let Some(rest) = line.strip_prefix("# HELP ").or_else(|| line.strip_prefix("# TYPE ")) {
                let name = rest.split_whitespace().next().unwrap_or_default();
                let index = match families.iter().position(|f| f.name == name) {
                    Some(index) => index,
                    None => {
                        families.push(Family {
                            name: name.to_owned(),
                            header: Vec::new(),
                            samples: Vec::new(),
                        });
                        families.len() - 1
                    }
                };
                let family = &mut families[index];
                if family.header.len() < 2 && !family.header.iter().any(|h| h == line) {
                    family.header.push(line.to_owned());
                }
                current = Some(index);
            } else if !line.trim().is_empty() {
                let labelled = with_chain_id(line, *chain_id);
                match current {
                    Some(index) => families[index].samples.push(labelled),
                    None => families.push(Family {
                        name: String::new(),
                        header: Vec::new(),
                        samples: vec![labelled],
                    }),
                }
            }
        }
    }
    let mut out = String::new();
    for family in families {
        for line in family.header.iter().chain(&family.samples) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `name{a="b"} 1` -> `name{chain_id="7",a="b"} 1`; `name 1` -> `name{chain_id="7"} 1`.
fn with_chain_id(sample: &str, chain_id: u64) -> String {
    let label = format!("chain_id=\"{chain_id}\"");
    let name_end = sample.find(['{', ' ']).unwrap_or(sample.len());
    let (name, rest) = sample.split_at(name_end);
    match rest.strip_prefix('{') {
        Some(labels) => format!("{name}{{{label},{labels}"),
        None => format!("{name}{{{label}}}{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn every_sample_gets_its_chain_and_each_family_one_header() {
        let one = Metrics::default();
        one.batch_written(5, 100, Duration::from_millis(1));
        one.rpc_call("eth_getLogs", "ok");
        let two = Metrics::default();
        two.batch_written(7, 200, Duration::from_millis(1));
        let text = render_boards(&[(1, one), (8453, two)]);
        assert!(text.contains("jobboard_events_indexed_total{chain_id=\"1\"} 5\n"), "{text}");
        assert!(text.contains("jobboard_events_indexed_total{chain_id=\"8453\"} 7\n"), "{text}");
        assert!(
            text.contains("jobboard_rpc_calls_total{chain_id=\"1\",method=\"eth_getLogs\",result=\"ok\"} 1"),
            "{text}"
        );
        assert_eq!(text.matches("# TYPE jobboard_events_indexed_total counter").count(), 1, "{text}");
        let help = text.find("# HELP jobboard_indexed_block").expect("a header");
        let first = text.find("jobboard_indexed_block{chain_id=\"1\"}").expect("board 1");
        let second = text.find("jobboard_indexed_block{chain_id=\"8453\"}").expect("board 2");
        let next = text.find("# HELP jobboard_head_block").expect("the next family");
        assert!(help < first && first < second && second < next, "a family's samples stay together:\n{text}");
    }
}
