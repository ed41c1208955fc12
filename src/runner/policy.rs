//! How the runner treats each component (its timeouts, retries and readiness probe),
//! resolved once from the configuration.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::model::{Config, Probe, Retry};
use crate::graph::Graph;

/// One component's timeouts, retries and readiness probe, with defaults applied.
#[derive(Debug, Clone)]
pub(crate) struct ComponentPolicy {
    /// Time from the start action to ready.
    pub start_timeout: Duration,
    /// Grace period of a stop before the kill.
    pub stop_timeout: Duration,
    /// A host-side readiness probe.
    pub probe: Option<Probe>,
    /// Retries of transient start failures.
    pub retry: Retry,
    /// Where `exec` probes run.
    pub cwd: PathBuf,
}

impl ComponentPolicy {
    /// Settings for every node of `graph`.
    pub(crate) fn for_graph(config: &Config, graph: &Graph) -> Vec<Self> {
        graph
            .names()
            .iter()
            .map(|n| {
                let spec = &config.components[n];
                ComponentPolicy {
                    start_timeout: spec.start_timeout.unwrap_or(config.defaults.start_timeout),
                    stop_timeout: spec.stop_timeout.unwrap_or(config.defaults.stop_timeout),
                    probe: spec.probe.clone(),
                    retry: config.defaults.retry,
                    cwd: spec.cwd.clone().unwrap_or_else(|| config.base_dir.clone()),
                }
            })
            .collect()
    }

    /// Defaults, for tests and scripted drivers.
    #[cfg(test)]
    pub(crate) fn uniform(n: usize, start_timeout: Duration) -> Vec<Self> {
        vec![
            ComponentPolicy {
                start_timeout,
                stop_timeout: Duration::from_secs(1),
                probe: None,
                retry: Retry::default(),
                cwd: PathBuf::from("/"),
            };
            n
        ]
    }
}
