//! Reading a service's state from an engine snapshot: status, health, age and detail for
//! `tta status` (with the addresses its published ports are reached at), readiness for
//! `tta start`, and the failure a start reports (with the container's last log lines).
//!
//! A service is judged by all of its containers (`scale: 3` gives three): it is up only
//! when every one is. Each container is judged by what the engine says and by the
//! service's [`Lifetime`]: a one-shot that runs has not completed yet; a long-running
//! service that exited was stopped (or crashed), it never "completed"; a container the
//! engine restarted less than [`CRASH_WINDOW`] ago is in a crash loop, not up, however
//! often it is "running" between crashes.
//!
//! [`CRASH_WINDOW`]: super::ps::CRASH_WINDOW

use super::driver::{Compose, Node, TAIL_LINES};
use super::engine::PsError;
use super::markers;
use super::ps::{Container, State as ContainerState};
use crate::config::model::Lifetime;
use crate::driver::types::{Failure, Health, Observation, Poll, Status};
use crate::graph::NodeId;
use crate::state::now_epoch;

/// What one container says about its service.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Judged {
    /// Running as a service should (health aside).
    Up,
    /// On its way: a one-shot still running, a healthcheck starting, created.
    Busy(String),
    /// A one-shot (or a service of unknown lifetime) that exited 0.
    Done,
    /// Stopped: by `tta`, or (long-running) by `docker stop` or an engine restart.
    Stopped(String),
    /// In a crash loop.
    Crashing(String),
    /// Failed: exited non-zero, unhealthy, paused, dead.
    Bad(String, Option<i32>),
}

/// Exit codes of a process that was asked to stop (SIGINT, SIGKILL, SIGTERM) or whose
/// engine went away under it (255).
fn stop_code(code: i32) -> bool {
    matches!(code, 130 | 137 | 143 | 255)
}

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

    /// One container, judged. `starting`: during `tta start`'s wait (where any exit of a
    /// long-running service is a failure, and a created container is on its way).
    pub(super) fn judge(&self, node: &Node, c: &Container, now: f64, starting: bool) -> Judged {
        let code = c.exit_code.unwrap_or(-1);
        match c.state {
            ContainerState::Running if c.crash_looping(now) => Judged::Crashing(format!(
                "keeps restarting: restarted {} times, the last time {:.0} s ago",
                c.restart_count.unwrap_or(0),
                c.started_at.map_or(0.0, |t| (now - t).max(0.0))
            )),
            ContainerState::Running if node.lifetime == Lifetime::OneShot => {
                Judged::Busy("running (a one-shot: waiting for it to complete)".into())
            }
            ContainerState::Running => match c.health {
                Some(Health::Starting) => Judged::Busy("health: starting".into()),
                Some(Health::Unhealthy) if starting => {
                    Judged::Bad("its healthcheck reports unhealthy".into(), None)
                }
                _ => Judged::Up,
            },
            ContainerState::Restarting => {
                Judged::Crashing(format!("keeps restarting (last exit code {code})"))
            }
            ContainerState::Created if starting => Judged::Busy("created".into()),
            ContainerState::Created => Judged::Stopped("created, never started".into()),
            ContainerState::Paused => Judged::Bad(format!("paused ({})", c.status), None),
            ContainerState::Dead => Judged::Bad(
                format!("its container is {}", c.status.to_lowercase()),
                None,
            ),
            ContainerState::Exited => {
                let stopped = format!("stopped (exit code {code})");
                let failed = Judged::Bad(format!("exited with code {code}"), c.exit_code);
                if !starting && markers::stopped_by_tta(&self.state, &node.name, c, now) {
                    // tta stopped it: its exit code is only how it went (143 for SIGTERM).
                    return Judged::Stopped("stopped".into());
                }
                match node.lifetime {
                    Lifetime::LongRunning if starting => failed,
                    Lifetime::LongRunning if code == 0 || stop_code(code) => {
                        Judged::Stopped(stopped)
                    }
                    Lifetime::OneShot | Lifetime::Unknown if code == 0 => Judged::Done,
                    Lifetime::Unknown if stop_code(code) && code != 255 && !starting => {
                        Judged::Stopped(stopped)
                    }
                    _ => failed,
                }
            }
        }
    }

    /// How far a started service is towards ready, from all of its containers.
    pub(super) fn readiness(&self, node: &Node, cs: &[&Container]) -> Poll {
        let now = now_epoch();
        let judged: Vec<(Judged, &Container)> = cs
            .iter()
            .map(|c| (self.judge(node, c, now, true), *c))
            .collect();
        let several = cs.len() > 1;
        for (j, c) in &judged {
            if let Judged::Bad(why, code) = j {
                return Poll::Failed(self.failure(node, c, of(c, why, several), *code));
            }
        }
        for (j, c) in &judged {
            if let Judged::Crashing(why) = j {
                if self.restarted_since_seen(c) {
                    let code = c.exit_code;
                    return Poll::Failed(self.failure(node, c, of(c, why, several), code));
                }
                return Poll::Pending(Some(of(c, why, several)));
            }
        }
        if let Some((Judged::Busy(why), c)) =
            judged.iter().find(|(j, _)| matches!(j, Judged::Busy(_)))
        {
            return Poll::Pending(Some(of(c, why, several)));
        }
        if judged.iter().all(|(j, _)| *j == Judged::Done) {
            Poll::Completed
        } else {
            Poll::Running
        }
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
            Err(e) if e.unreachable => {
                return Observation::new(
                    Status::Unknown,
                    Some(format!("engine unreachable: {}", e.message)),
                );
            }
            Err(e) => return Observation::new(Status::Error, Some(e.message.clone())),
        };
        let cs = self.containers(node, snap);
        let Some(first) = cs.first() else {
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
        let judged: Vec<(Judged, &Container)> = cs
            .iter()
            .map(|c| (self.judge(node, c, now, false), *c))
            .collect();
        let mut o = status_of(&judged, now, &logs_hint);
        if o.since.is_none() {
            o.since = first.created;
        }
        if matches!(o.status(), Status::Running | Status::Starting) {
            let host = self.engine_of(node).engine_host();
            for a in cs
                .iter()
                .flat_map(|c| c.ports.iter().map(|p| p.address(&host)))
            {
                if !o.endpoints.contains(&a) {
                    o.endpoints.push(a);
                }
            }
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
            log_tail: self.engine_of(node).logs(&c.id, TAIL_LINES),
            environment: None,
        };
        with_hint(f, &self.projects[node.repo].name, &node.service)
    }
}

/// `why`, naming the container when the service has several.
fn of(c: &Container, why: &str, several: bool) -> String {
    if several {
        format!("{}: {why}", c.name)
    } else {
        why.to_owned()
    }
}

/// The status of a service from its judged containers (the worst one decides; a service
/// is up only when every container is).
fn status_of(judged: &[(Judged, &Container)], now: f64, logs_hint: &str) -> Observation {
    let several = judged.len() > 1;
    let error = |c: &Container, why: &str| {
        Observation::new(
            Status::Error,
            Some(format!("{}; {logs_hint}", of(c, why, several))),
        )
    };
    for (j, c) in judged {
        match j {
            Judged::Bad(why, _) | Judged::Crashing(why) => return error(c, why),
            _ => {}
        }
    }
    let stopped = judged
        .iter()
        .filter(|(j, _)| matches!(j, Judged::Stopped(_)))
        .count();
    if stopped == judged.len() {
        let Judged::Stopped(why) = &judged[0].0 else {
            unreachable!("all stopped")
        };
        return Observation::new(Status::Stopped, Some(why.clone()));
    }
    if stopped > 0 {
        let (j, c) = judged
            .iter()
            .find(|(j, _)| matches!(j, Judged::Stopped(_)))
            .expect("one is stopped");
        let Judged::Stopped(why) = j else {
            unreachable!("found a stopped one")
        };
        return Observation::new(
            Status::Error,
            Some(format!(
                "{stopped} of {} containers are not running ({}: {why})",
                judged.len(),
                c.name
            )),
        );
    }
    if let Some((Judged::Busy(why), c)) = judged.iter().find(|(j, _)| matches!(j, Judged::Busy(_)))
    {
        let mut o = running(c, now);
        o.status = Some(Status::Starting);
        o.detail = Some(of(c, why, several));
        return o;
    }
    if judged.iter().all(|(j, _)| *j == Judged::Done) {
        return Observation::new(Status::Completed, Some("exited 0".to_owned()));
    }
    // Every container runs (or, of unknown lifetime, completed): the worst health wins.
    let rank = |h: Option<Health>| match h {
        Some(Health::Unhealthy) => 3,
        Some(Health::Starting) => 2,
        Some(Health::Healthy) => 1,
        None => 0,
    };
    let worst = judged
        .iter()
        .filter(|(j, _)| *j == Judged::Up)
        .map(|(_, c)| *c)
        .max_by_key(|c| rank(c.health))
        .unwrap_or(judged[0].1);
    running(worst, now)
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
        since: match (c.started_at, c.age, c.created) {
            (Some(t), _, _) => Some(t),
            (None, Some(a), Some(cr)) if (now - a - cr).abs() <= c.age_precision + 2.0 => Some(cr),
            (None, Some(a), _) => Some(now - a),
            (None, None, cr) => cr,
        },
        detail: Some(c.status.clone()),
        changed: false,
        refresh: false,
        endpoints: Vec::new(),
    }
}

/// Adds where to look next to a failure's message.
fn with_hint(mut f: Failure, repo: &str, service: &str) -> Failure {
    f.message
        .push_str(&format!("; see `tta compose --repo {repo} logs {service}`"));
    f
}
