//! Reading a service's state from a `docker ps` snapshot: status, health, age and detail
//! for `tta status`, and the markers that remember which containers `tta` stopped (so an
//! exited container reads as `stopped`, not as a one-shot that completed).

use std::collections::HashMap;

use super::ps::{Container, State as ContainerState};
use super::{Compose, ENGINE_DEADLINE, Node, PsError, Snapshot, TAIL_LINES, with_hint};
use crate::driver::types::{Failure, Health, Observation, Status};
use crate::error::Error;
use crate::graph::NodeId;
use crate::process::{Sink, Spec};
use crate::state::now_epoch;

impl Compose {
    /// The engines (distinct, sorted) that serve these components.
    pub(super) fn engines_of(&self, ids: &[NodeId]) -> Vec<usize> {
        let mut engines: Vec<usize> = ids
            .iter()
            .filter_map(|&i| self.node(i))
            .map(|n| self.repos[n.repo].engine)
            .collect();
        engines.sort_unstable();
        engines.dedup();
        engines
    }

    /// Observes compose components: one `docker ps` per engine for all of them.
    pub fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        let engines = self.engines_of(ids);
        let snaps: HashMap<usize, Snapshot> = if engines.len() > 1 {
            std::thread::scope(|s| {
                let hs: Vec<_> = engines
                    .iter()
                    .map(|&e| (e, s.spawn(move || self.snapshot(e, None))))
                    .collect();
                hs.into_iter()
                    .filter_map(|(e, h)| h.join().ok().map(|snap| (e, snap)))
                    .collect()
            })
        } else {
            engines
                .iter()
                .map(|&e| (e, self.snapshot(e, None)))
                .collect()
        };
        ids.iter()
            .map(|&id| {
                match self
                    .node(id)
                    .and_then(|n| snaps.get(&self.repos[n.repo].engine))
                {
                    Some(snap) => self.observe_node(id, snap),
                    None => {
                        Observation::new(Status::Error, Some("not a compose component".to_owned()))
                    }
                }
            })
            .collect()
    }

    /// The containers of a node's service, the one that matters most first.
    pub(super) fn containers<'s>(&self, node: &Node, snap: &'s [Container]) -> Vec<&'s Container> {
        let Ok(t) = &self.repos[node.repo].target else {
            return Vec::new();
        };
        let mut cs: Vec<&Container> = snap
            .iter()
            .filter(|c| c.project == t.project && c.service == node.service)
            .collect();
        let rank = |c: &Container| match c.state {
            ContainerState::Running => 0,
            ContainerState::Restarting => 1,
            ContainerState::Paused => 2,
            ContainerState::Exited => 3,
            ContainerState::Dead => 4,
            ContainerState::Created => 5,
        };
        cs.sort_by(|a, b| {
            rank(a).cmp(&rank(b)).then(
                b.created
                    .partial_cmp(&a.created)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
        });
        cs
    }

    pub(super) fn observe_node(
        &self,
        id: NodeId,
        snap: &Result<Vec<Container>, PsError>,
    ) -> Observation {
        let Some(node) = self.node(id) else {
            return Observation::new(Status::Error, Some("not a compose component".to_owned()));
        };
        let repo = &self.repos[node.repo];
        if let Err(e) = &repo.target {
            return Observation::new(Status::Error, Some(e.clone()));
        }
        let snap = match snap {
            Ok(s) => s,
            Err(e) => return Observation::new(Status::Error, Some(e.message.clone())),
        };
        let cs = self.containers(node, snap);
        let Some(c) = cs.first() else {
            if !repo.config.path.is_dir() {
                return Observation::new(Status::Error, Some(Self::missing(repo).to_string()));
            }
            return Observation::new(Status::Stopped, None);
        };
        let now = now_epoch();
        let logs_hint = format!(
            "see `tta compose --repo {} logs {}`",
            repo.name, node.service
        );
        let mut o = match c.state {
            ContainerState::Running => Observation {
                status: Some(if c.health == Some(Health::Starting) {
                    Status::Starting
                } else {
                    Status::Running
                }),
                health: c.health,
                // "Up 3 hours" is coarse: the creation time is exact, and the same when
                // the container has not been restarted since.
                since: match (c.age, c.created) {
                    (Some(a), Some(cr)) if (now - a - cr).abs() <= c.age_precision + 2.0 => {
                        Some(cr)
                    }
                    (Some(a), _) => Some(now - a),
                    (None, cr) => cr,
                },
                detail: Some(c.status.clone()),
            },
            ContainerState::Exited => {
                let code = c.exit_code.unwrap_or(-1);
                // Exit 0 means a one-shot completed, unless tta stopped it or the service
                // has a healthcheck (long-running services do; postgres exits 0 on stop).
                if self.stopped_by_tta(&node.name, c, now)
                    || matches!(code, 130 | 137 | 143)
                    || (code == 0 && node.healthcheck)
                {
                    Observation::new(Status::Stopped, Some(format!("stopped (exit code {code})")))
                } else if code == 0 {
                    Observation::new(Status::Completed, Some("exited 0".to_owned()))
                } else {
                    Observation::new(
                        Status::Error,
                        Some(format!("exited with code {code}; {logs_hint}")),
                    )
                }
            }
            ContainerState::Created => {
                Observation::new(Status::Stopped, Some("created, never started".to_owned()))
            }
            ContainerState::Restarting => Observation::new(
                Status::Error,
                Some(format!(
                    "keeps restarting (last exit code {}); {logs_hint}",
                    c.exit_code.unwrap_or(-1)
                )),
            ),
            ContainerState::Paused => {
                Observation::new(Status::Error, Some(format!("paused ({})", c.status)))
            }
            ContainerState::Dead => Observation::new(
                Status::Error,
                Some(format!("container is {}", c.status.to_lowercase())),
            ),
        };
        if o.since.is_none() {
            o.since = c.created;
        }
        o
    }

    pub(super) fn failure(
        &self,
        node: &Node,
        c: &Container,
        message: String,
        exit_code: Option<i32>,
    ) -> Failure {
        let f = Failure {
            message,
            exit_code,
            log_tail: self.container_logs(c, TAIL_LINES),
        };
        with_hint(f, &self.repos[node.repo].name, &node.service)
    }

    pub(super) fn container_logs(&self, c: &Container, n: usize) -> Vec<String> {
        let argv = vec![
            self.cli.to_owned(),
            "logs".to_owned(),
            "--tail".to_owned(),
            n.to_string(),
            c.id.clone(),
        ];
        let argv = match &self
            .engines
            .iter()
            .find(|e| e.projects.contains(&c.project))
            .and_then(|e| e.context.clone())
        {
            Some(ctx) => {
                let mut a = argv;
                a.insert(1, ctx.clone());
                a.insert(1, "--context".to_owned());
                a
            }
            None => argv,
        };
        Spec::new(argv)
            .merged(Sink::Capture)
            .deadline(ENGINE_DEADLINE)
            .run()
            .map(|o| {
                let lines: Vec<String> = o.stdout_text().lines().map(str::to_owned).collect();
                lines[lines.len().saturating_sub(n)..].to_vec()
            })
            .unwrap_or_default()
    }

    // ---- stop markers -------------------------------------------------------------

    pub(super) fn marker_path(&self, name: &str) -> std::path::PathBuf {
        self.state
            .root()
            .join("compose")
            .join(format!("{}.stopped", name.replace('/', "%")))
    }

    /// Whether `tta` stopped this container (and it has not run since).
    pub(super) fn stopped_by_tta(&self, name: &str, c: &Container, now: f64) -> bool {
        let Ok(text) = std::fs::read_to_string(self.marker_path(name)) else {
            return false;
        };
        let mut lines = text.lines();
        let at: f64 = lines
            .next()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0.0);
        let ours = lines.any(|id| {
            !id.is_empty() && (c.id.starts_with(id.trim()) || id.trim().starts_with(&c.id))
        });
        // A container that exited well after the stop ran again since.
        let exited_at = c.age.map(|a| now - a);
        ours && exited_at.is_none_or(|t| t <= at + c.age_precision + 2.0)
    }

    pub(super) fn write_marker(&self, name: &str, ids: &[&str]) {
        let path = self.marker_path(name);
        let text = format!("{}\n{}\n", now_epoch(), ids.join("\n"));
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(|e| Error::io("create", path.clone(), e))
            .and_then(|()| crate::config::write_atomic(&path, text.as_bytes()));
        if let Err(e) = written {
            tracing::warn!(
                "cannot record that {name} was stopped: {}",
                crate::error::render(&e)
            );
        }
    }

    pub(super) fn clear_marker(&self, name: &str) {
        let _ = std::fs::remove_file(self.marker_path(name));
    }
}
