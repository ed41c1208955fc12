//! The real driver: dispatches each component to the driver of its kind, and runs host
//! probes for `tta status`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::compose::Compose;
use super::external::{External, STATUS_PROBE_LIMIT};
use super::local::Local;
use super::probe::{self, ProbeError};
use super::types::{
    ActionError, BatchKey, Driver, Ended, Failure, Health, Observation, Poll, Scope, Status,
    StopOutcome,
};
use crate::cancel::Cancel;
use crate::config::model::{Config, Kind, Probe};
use crate::error::Error;
use crate::graph::{Graph, NodeId};

/// Every component of a stack, whatever its kind.
pub(crate) struct Stack {
    kinds: Vec<Kind>,
    local: Local,
    compose: Compose,
    external: External,
    /// Each component's host probe and where it runs.
    probes: Vec<Option<(Probe, PathBuf)>>,
}

impl Stack {
    /// The driver for `graph`'s components, from the config file `config_file`. Probes
    /// written with `{engine_host}` aim at the host of the component's engine.
    pub(crate) fn new(config: &Config, graph: &Graph, config_file: Option<&Path>) -> Self {
        let compose = Compose::new(config, graph);
        let default_host = std::sync::OnceLock::new();
        let probes = graph
            .names()
            .iter()
            .enumerate()
            .map(|(id, n)| {
                let spec = &config.components[n];
                let cwd = spec.cwd.clone().unwrap_or_else(|| config.base_dir.clone());
                spec.probe.clone().map(|mut p| {
                    if probe::uses_engine_host(&p.check) {
                        let host = compose.engine_host(id).unwrap_or_else(|| {
                            default_host
                                .get_or_init(|| compose.default_engine_host())
                                .clone()
                        });
                        p.check = p.check.with_engine_host(&host);
                    }
                    (p, cwd)
                })
            })
            .collect();
        Self {
            kinds: (0..graph.len()).map(|i| graph.kind(i)).collect(),
            local: Local::new(config, graph, config_file),
            compose,
            external: External::new(config, graph),
            probes,
        }
    }

    /// What is configured that cannot work as written: a probe of a component on an
    /// engine of another host (or another loopback address) that checks a loopback
    /// address of this machine where that engine is not (it should say `{engine_host}`).
    pub(crate) fn warnings(&self, graph: &Graph) -> Vec<String> {
        let mut out = Vec::new();
        for (id, probe) in self.probes.iter().enumerate() {
            let Some((p, _)) = probe else { continue };
            let Some(engine) = self.compose.engine_of_id(id) else {
                continue;
            };
            let Ok(ep) = engine.endpoint() else { continue };
            let Some(addr) = p.check.address().filter(|a| probe::is_loopback(a)) else {
                continue;
            };
            if !ep.elsewhere_than(&addr) {
                continue;
            }
            let port = addr.rsplit(':').next().unwrap_or_default();
            out.push(format!(
                "{}: its engine is on another host ({}), but its probe checks {addr} on this machine; write `{{engine_host}}:{port}` to probe the engine's host",
                graph.name(id),
                ep.host
            ));
        }
        out
    }

    fn driver(&self, id: NodeId) -> &dyn Driver {
        match self.kinds[id] {
            Kind::Compose => &self.compose,
            Kind::External => &self.external,
            Kind::Process | Kind::Task => &self.local,
        }
    }

    /// The ids of one kind among `ids`, with their positions.
    fn of_kind(&self, ids: &[NodeId], kinds: &[Kind]) -> (Vec<usize>, Vec<NodeId>) {
        ids.iter()
            .enumerate()
            .filter(|(_, id)| kinds.contains(&self.kinds[**id]))
            .map(|(i, &id)| (i, id))
            .unzip()
    }

    /// Runs the host probe of each running component once, all at once.
    fn probe_running(
        &self,
        ids: &[NodeId],
        seen: &[Observation],
    ) -> Vec<Option<Result<(), ProbeError>>> {
        std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .iter()
                .zip(seen)
                .map(|(&id, o)| {
                    let running = matches!(o.status(), Status::Running | Status::Starting);
                    let (p, cwd) = self.probes[id].as_ref().filter(|_| running)?;
                    Some(s.spawn(move || {
                        probe::check(&p.check, p.timeout.min(STATUS_PROBE_LIMIT), cwd)
                    }))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(ProbeError::CannotRun("probe panicked".into())))
                    })
                })
                .collect()
        })
    }
}

/// What `tta status` shows of a running component whose host probe ran: the probe's verdict
/// joins the driver's own health (a container healthcheck that is not healthy yet wins).
/// A failing probe within the component's start period (counted from when it started)
/// means it is still `starting`, as Docker's `health: starting`, not unhealthy.
fn with_probe(
    mut o: Observation,
    probed: Option<Result<(), ProbeError>>,
    start_period: Duration,
) -> Observation {
    match probed {
        Some(Err(e)) => {
            let age = o.since.map(|s| crate::state::now_epoch() - s);
            if age.is_some_and(|a| a >= 0.0 && a < start_period.as_secs_f64()) {
                o.status = Some(Status::Starting);
                o.health = Some(Health::Starting);
                o.detail = Some(format!("in its start period; so far: {e}"));
                return o;
            }
            o.detail = Some(e.to_string());
            o.health = Some(Health::Unhealthy);
        }
        Some(Ok(())) if matches!(o.health, Some(Health::Unhealthy | Health::Starting)) => {}
        Some(Ok(())) => o.health = Some(Health::Healthy),
        None if matches!(o.status(), Status::Running | Status::Starting) => {}
        None => o.health = None,
    }
    o
}

impl Driver for Stack {
    fn preflight(&self, ids: &[NodeId], scope: Scope) -> Result<(), Error> {
        self.compose.preflight(ids, scope, false)
    }

    fn preflight_read(&self, ids: &[NodeId], scope: Scope) -> Result<(), Error> {
        self.compose.preflight(ids, scope, true)
    }

    fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        let mut out = vec![Observation::default(); ids.len()];
        // One engine call for every compose component, whatever else is asked.
        for kinds in [
            &[Kind::Compose][..],
            &[Kind::External],
            &[Kind::Process, Kind::Task],
        ] {
            let (at, these) = self.of_kind(ids, kinds);
            if these.is_empty() {
                continue;
            }
            for (i, o) in at.into_iter().zip(self.driver(these[0]).observe(&these)) {
                out[i] = o;
            }
        }
        out
    }

    fn status(&self, ids: &[NodeId]) -> Vec<Observation> {
        let (ext_at, externals) = self.of_kind(ids, &[Kind::External]);
        let (at, others) = self.of_kind(ids, &[Kind::Compose, Kind::Process, Kind::Task]);
        let mut out = vec![Observation::default(); ids.len()];
        std::thread::scope(|s| {
            let ext = s.spawn(|| self.external.status(&externals));
            let seen = self.observe(&others);
            let probed = self.probe_running(&others, &seen);
            for (((i, o), p), id) in at.into_iter().zip(seen).zip(probed).zip(&others) {
                let period = self.probes[*id]
                    .as_ref()
                    .map_or(Duration::ZERO, |(p, _)| p.start_period);
                out[i] = with_probe(o, p, period);
            }
            for (i, o) in ext_at.into_iter().zip(ext.join().unwrap_or_default()) {
                out[i] = o;
            }
        });
        out
    }

    fn start_batch(&self, ids: &[NodeId], cancel: &Cancel) -> Vec<Result<(), ActionError>> {
        if ids.iter().all(|&id| self.kinds[id] == Kind::Compose) {
            return self.compose.start_batch(ids, cancel);
        }
        ids.iter().map(|&id| self.start(id, cancel)).collect()
    }

    fn start(&self, id: NodeId, cancel: &Cancel) -> Result<(), ActionError> {
        match self.kinds[id] {
            Kind::Compose => self
                .compose
                .start_batch(&[id], cancel)
                .pop()
                .unwrap_or(Ok(())),
            _ => self.driver(id).start(id, cancel),
        }
    }

    fn poll(&self, id: NodeId) -> Poll {
        self.driver(id).poll(id)
    }

    fn poll_interval(&self, id: NodeId) -> Duration {
        match self.kinds[id] {
            Kind::Compose => self.compose.poll_interval(id),
            _ => Duration::from_millis(10),
        }
    }

    fn wait(&self, id: NodeId, until: Instant, cancel: &Cancel) {
        match self.kinds[id] {
            Kind::Compose => self.compose.wait(id, until, cancel),
            _ => {
                cancel.sleep(until.saturating_duration_since(Instant::now()));
            }
        }
    }

    fn change_count(&self) -> u64 {
        self.compose.change_count()
    }

    fn engine_host(&self, id: NodeId) -> Option<String> {
        Some(
            self.compose
                .engine_host(id)
                .unwrap_or_else(|| self.compose.default_engine_host()),
        )
    }

    fn wait_for_change(&self, seen: u64, until: Instant, cancel: &Cancel) -> bool {
        self.compose.wait_for_change(seen, until, cancel)
    }

    fn batch_key(&self, id: NodeId) -> Option<BatchKey> {
        match self.kinds[id] {
            Kind::Compose => self.compose.batch_key(id),
            _ => None,
        }
    }

    fn stop(
        &self,
        id: NodeId,
        grace: Duration,
        cancel: &Cancel,
    ) -> Result<StopOutcome, ActionError> {
        self.driver(id).stop(id, grace, cancel)
    }

    fn log_tail(&self, id: NodeId, n: usize) -> Vec<String> {
        self.driver(id).log_tail(id, n)
    }

    fn set_up_options(&self, options: super::UpOptions) {
        self.compose.set_up_options(options);
    }

    fn log_sources(&self, id: NodeId, query: &super::LogQuery) -> Vec<super::LogSource<'_>> {
        self.driver(id).log_sources(id, query)
    }

    fn run(&self, id: NodeId, cancel: &Cancel) -> Result<Option<i32>, ActionError> {
        self.driver(id).run(id, cancel)
    }

    fn stop_leftovers(
        &self,
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<(String, Result<StopOutcome, ActionError>)> {
        let mut all = self.local.stop_leftovers(grace, cancel);
        all.extend(self.compose.stop_leftovers(grace, cancel));
        all
    }

    fn note_failure(&self, id: NodeId, failure: &Failure) {
        self.driver(id).note_failure(id, failure);
    }

    fn watch(&self, id: NodeId, cancel: &Cancel) -> Ended {
        self.driver(id).watch(id, cancel)
    }

    fn follow(
        &self,
        id: NodeId,
        since: f64,
        line: &(dyn Fn(Vec<u8>) + Sync),
        cancel: &Cancel,
    ) -> bool {
        self.driver(id).follow(id, since, line, cancel)
    }

    fn restart(&self, id: NodeId, grace: Duration, cancel: &Cancel) -> Result<(), ActionError> {
        self.driver(id).restart(id, grace, cancel)
    }

    fn set_deadline(&self, deadline: Option<Instant>) {
        self.compose.set_deadline(deadline);
    }

    fn stop_batch(
        &self,
        ids: &[NodeId],
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<Result<StopOutcome, ActionError>> {
        if ids.iter().all(|&id| self.kinds[id] == Kind::Compose) {
            return self.compose.stop_batch(ids, grace, cancel);
        }
        ids.iter().map(|&id| self.stop(id, grace, cancel)).collect()
    }
}
