//! Reading a service's state from an engine snapshot: status, health, age and detail for
//! `tta status`, and the failure a start reports (with the container's last log lines).

use super::driver::{Compose, Node, TAIL_LINES};
use super::engine::PsError;
use super::markers;
use super::ps::{Container, State as ContainerState};
use crate::driver::types::{Failure, Health, Observation, Status};
use crate::graph::NodeId;
use crate::state::now_epoch;

impl Compose {
    /// The containers of a node's service, the one that matters most first.
    pub(super) fn containers<'s>(&self, node: &Node, snap: &'s [Container]) -> Vec<&'s Container> {
        let Ok(t) = &self.projects[node.repo].target else {
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
        let o = self.observe_container(id, snap);
        match self.node(id).filter(|_| o.status() == Status::Stopped) {
            Some(node) => match self.state.last_failure(&node.name) {
                Some(f) => Observation {
                    #[expect(clippy::cast_precision_loss, reason = "seconds since the epoch")]
                    since: Some(f.at as f64),
                    ..Observation::new(
                        Status::Error,
                        Some(format!("failed to start: {}", f.message)),
                    )
                },
                None => o,
            },
            None => o,
        }
    }

    fn observe_container(&self, id: NodeId, snap: &Result<Vec<Container>, PsError>) -> Observation {
        let Some(node) = self.node(id) else {
            return Observation::new(Status::Error, Some("not a compose component".to_owned()));
        };
        let repo = &self.projects[node.repo];
        if let Err(e) = &repo.target {
            return Observation::new(Status::Error, Some(e.clone()));
        }
        let snap = match snap {
            Ok(s) => s,
            Err(e) => return Observation::new(Status::Error, Some(e.message.clone())),
        };
        let cs = self.containers(node, snap);
        let Some(c) = cs.first() else {
            if !repo.present() {
                return Observation::new(Status::Error, Some(repo.missing().to_string()));
            }
            return Observation::new(Status::Stopped, None);
        };
        let now = now_epoch();
        let logs_hint = format!(
            "see `tta compose --repo {} logs {}`",
            repo.name, node.service
        );
        let mut o = match c.state {
            ContainerState::Running => running(c, now),
            ContainerState::Exited => self.exited(node, c, now, &logs_hint),
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

    /// An exited container: a stopped service, a completed one-shot, or a failure.
    fn exited(&self, node: &Node, c: &Container, now: f64, logs_hint: &str) -> Observation {
        let code = c.exit_code.unwrap_or(-1);
        // Exit 0 means a one-shot completed, unless tta stopped it or the service has a
        // healthcheck (long-running services do; postgres exits 0 on stop).
        if markers::stopped_by_tta(&self.state, &node.name, c, now)
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
            log_tail: self.engine_of(node).logs(&c.id, TAIL_LINES),
            environment: None,
        };
        with_hint(f, &self.projects[node.repo].name, &node.service)
    }
}

/// A running container: its health, and since when it runs.
fn running(c: &Container, now: f64) -> Observation {
    Observation {
        status: Some(if c.health == Some(Health::Starting) {
            Status::Starting
        } else {
            Status::Running
        }),
        health: c.health,
        // "Up 3 hours" is coarse: the creation time is exact, and the same when the
        // container has not been restarted since.
        since: match (c.age, c.created) {
            (Some(a), Some(cr)) if (now - a - cr).abs() <= c.age_precision + 2.0 => Some(cr),
            (Some(a), _) => Some(now - a),
            (None, cr) => cr,
        },
        detail: Some(c.status.clone()),
        changed: false,
        endpoints: Vec::new(),
    }
}

/// Adds where to look next to a failure's message.
fn with_hint(mut f: Failure, repo: &str, service: &str) -> Failure {
    f.message
        .push_str(&format!("; see `tta compose --repo {repo} logs {service}`"));
    f
}
