//! What earlier runs started that no component names any more: containers of a project
//! recorded in the state directory ([`super::registry`]) or of a configured repository,
//! whose service is not a component now (renamed or removed from the compose file, a
//! repository whose files no longer load, a project name a moved checkout left behind).
//! `tta stop` of everything stops them by container id, because compose cannot (it no
//! longer knows the service, or cannot read the files). The engine knows them by their
//! labels.

use std::collections::HashSet;
use std::time::Duration;

use super::driver::Compose;
use super::engine::Engine;
use super::project::STOP_SLACK;
use super::ps::State as ContainerState;
use super::registry::{Registry, Started};
use crate::cancel::Cancel;
use crate::driver::types::{ActionError, Failure, StopOutcome};

impl Compose {
    /// The projects to look in: every one recorded, and those of repositories that
    /// discover all their services (in one that does not, tta may not own the rest).
    fn wanted(&self) -> Vec<Started> {
        let mut wanted: Vec<Started> = Registry::load(&self.state).projects;
        for p in &self.projects {
            if let Ok(t) = &p.target
                && p.config.discover
            {
                let engine = &self.engines[p.engine];
                wanted.push(Started {
                    project: t.project.clone(),
                    context: engine.context().map(str::to_owned),
                    host: engine.host().map(str::to_owned),
                });
            }
        }
        wanted.sort();
        wanted.dedup();
        wanted
    }

    /// Stops the running containers of `tta`'s projects that no component names; one line
    /// per engine that had any (what was stopped, or why not).
    pub(crate) fn stop_leftovers(
        &self,
        grace: Duration,
        cancel: &Cancel,
    ) -> Vec<(String, Result<StopOutcome, ActionError>)> {
        let known: HashSet<(&str, &str)> = self
            .nodes
            .iter()
            .flatten()
            .filter_map(|n| {
                let t = self.projects[n.repo].target.as_ref().ok()?;
                Some((t.project.as_str(), n.service.as_str()))
            })
            .collect();
        let wanted = self.wanted();
        let mut engines: Vec<(Option<String>, Option<String>)> = wanted
            .iter()
            .map(|s| (s.context.clone(), s.host.clone()))
            .collect();
        engines.sort();
        engines.dedup();
        let mut lines = Vec::new();
        for (context, host) in engines {
            if cancel.is_cancelled() {
                break;
            }
            let projects: Vec<String> = wanted
                .iter()
                .filter(|s| s.context == context && s.host == host)
                .map(|s| s.project.clone())
                .collect();
            let own;
            let engine = if let Some(e) = self
                .engines
                .iter()
                .find(|e| e.context() == context.as_deref() && e.host() == host.as_deref())
            {
                e
            } else {
                own = Engine::new(
                    self.engine_cli(),
                    context.clone(),
                    host.clone(),
                    self.changes.clone(),
                );
                &own
            };
            lines.extend(stop_in(engine, &projects, &known, grace));
        }
        lines
    }
}

/// Stops the running containers of `projects` on `engine` whose service is not `known`;
/// one entry per container (`project/service (container)`) with how its stop went.
fn stop_in(
    engine: &Engine,
    projects: &[String],
    known: &HashSet<(&str, &str)>,
    grace: Duration,
) -> Vec<(String, Result<StopOutcome, ActionError>)> {
    let Ok(all) = engine.list(projects) else {
        return Vec::new();
    };
    let left: Vec<_> = all
        .iter()
        .filter(|c| {
            matches!(
                c.state,
                ContainerState::Running | ContainerState::Restarting | ContainerState::Paused
            ) && !known.contains(&(c.project.as_str(), c.service.as_str()))
        })
        .collect();
    if left.is_empty() {
        return Vec::new();
    }
    let names: Vec<String> = left
        .iter()
        .map(|c| format!("{}/{} ({})", c.project, c.service, c.name))
        .collect();
    let ids: Vec<&str> = left.iter().map(|c| c.id.as_str()).collect();
    let result = engine
        .stop_containers(&ids, grace, grace + STOP_SLACK, None)
        .map(|()| StopOutcome::Stopped)
        .map_err(|why| {
            ActionError::permanent(Failure::new(format!("{why}; stop them with `docker stop`")))
        });
    names.into_iter().map(|n| (n, result.clone())).collect()
}
