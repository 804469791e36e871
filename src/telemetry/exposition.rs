//! Prometheus' text exposition, written family by family: every sample of a metric name under
//! its one `# HELP` and `# TYPE`, as the format requires, however many boards contribute
//! samples to it. A process indexing several boards renders each board's [`Metrics`] into one
//! exposition with a `chain_id` label that the exposition puts on every sample.

use std::fmt::Display;

use super::Metrics;

/// One metric family: its name, type and help, and its sample lines.
#[derive(Debug)]
struct Family {
    name: String,
    kind: &'static str,
    help: &'static str,
    samples: Vec<String>,
}

/// An exposition being written; [`Exposition::finish`] gives its text.
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<Family>,
    /// The family samples go to.
    current: usize,
    /// Labels put first on every sample written (`chain_id="8453"`), if any.
    common: Option<String>,
}

impl Exposition {
    /// Puts `labels` (e.g. `chain_id="8453"`) first on every sample written from now on.
    pub fn set_common_labels(&mut self, labels: Option<String>) {
        self.common = labels;
    }

    /// Starts (or returns to) the family `name`; the samples written next belong to it.
    pub fn family(&mut self, name: &str, kind: &'static str, help: &'static str) {
        self.current = match self.families.iter().position(|f| f.name == name) {
            Some(index) => index,
            None => {
                self.families.push(Family { name: name.to_owned(), kind, help, samples: Vec::new() });
                self.families.len() - 1
            }
        };
    }

    /// Writes a sample of the current family: `name{suffix}{labels} value` (`suffix` for a
    /// histogram's `_bucket`, `_sum` and `_count`; `labels` without braces, possibly empty).
    pub fn sample(&mut self, suffix: &str, labels: &str, value: impl Display) {
        let Some(family) = self.families.get_mut(self.current) else { return };
        let labels = match (&self.common, labels.is_empty()) {
            (None, true) => String::new(),
            (None, false) => format!("{{{labels}}}"),
            (Some(common), true) => format!("{{{common}}}"),
            (Some(common), false) => format!("{{{common},{labels}}}"),
        };
        family.samples.push(format!("{}{suffix}{labels} {value}", family.name));
    }

    /// Writes a family of one unlabelled sample.
    pub fn single(&mut self, name: &str, kind: &'static str, help: &'static str, value: impl Display) {
        self.family(name, kind, help);
        self.sample("", "", value);
    }

    /// The text: each family's header, then its samples.
    pub fn finish(self) -> String {
        let mut out = String::new();
        for family in self.families {
            let name = &family.name;
            out.push_str(&format!("# HELP {name} {}\n# TYPE {name} {}\n", family.help, family.kind));
            for sample in family.samples {
                out.push_str(&sample);
                out.push('\n');
            }
        }
        out
    }
}

/// Every board's metrics in one exposition, each sample labelled `chain_id="<id>"`.
pub fn render_boards(boards: &[(u64, Metrics)]) -> String {
    let mut exposition = Exposition::default();
    for (chain_id, metrics) in boards {
        exposition.set_common_labels(Some(format!("chain_id=\"{chain_id}\"")));
        metrics.render_into(&mut exposition);
    }
    exposition.finish()
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

    #[test]
    fn one_board_renders_unlabelled_with_histogram_suffixes() {
        let mut exposition = Exposition::default();
        exposition.family("x_seconds", "histogram", "Time.");
        exposition.sample("_bucket", "le=\"1\"", 2);
        exposition.sample("_count", "", 2);
        exposition.single("y_total", "counter", "Things.", 3);
        let text = exposition.finish();
        assert_eq!(
            text,
            "# HELP x_seconds Time.\n# TYPE x_seconds histogram\nx_seconds_bucket{le=\"1\"} 2\nx_seconds_count 2\n\
             # HELP y_total Things.\n# TYPE y_total counter\ny_total 3\n"
        );
    }
}
