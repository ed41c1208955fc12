//! A start worker: one start action (a batch of components that go together), retried
//! while it fails transiently, then a readiness wait per component.

use std::sync::mpsc::Sender;
use std::time::Duration;

use super::events::Event;
use super::outcome::{ComponentResult, Outcome};
use super::readiness::readiness;
use super::shared::{Ctx, Found, Msg};
use crate::driver::Failure;
use crate::graph::NodeId;
use crate::process::retry::{Attempt, GaveUp, retry};

/// Starts a group (one driver call), then waits for each member to become ready.
pub(super) fn worker(ctx: &Ctx<'_>, group: &[NodeId], found: &Found, tx: &Sender<Msg>) {
    let already = &found.already;
    let began = ctx.at();
    let send = |m: Msg| {
        let _ = tx.send(m);
    };
    let failed = |id: NodeId, failure: Failure| {
        ctx.driver.note_failure(id, &failure);
        let mut r = ComponentResult::new(id, Outcome::Failed, ctx.at());
        r.began = Some(began);
        r.reason = Some(failure.message.clone());
        r.failure = Some(failure);
        send(Msg::Done(r));
    };
    let mut to_wait: Vec<NodeId> = group.iter().copied().filter(|&i| already[i]).collect();
    let mut pending: Vec<NodeId> = group.iter().copied().filter(|&i| !already[i]).collect();
    replace_changed(ctx, &mut pending, found, &send, &failed);
    let policy = pending.first().map(|&id| ctx.policies[id].retry.policy());
    let attempts = |attempt: u32| {
        if pending.is_empty() {
            return Attempt::Done(());
        }
        for &id in &pending {
            send(Msg::Event(Event::Starting { id, attempt }));
        }
        let outcomes = if pending.len() == 1 {
            vec![ctx.driver.start(pending[0], ctx.cancel)]
        } else {
            ctx.driver.start_batch(&pending, ctx.cancel)
        };
        let mut again: Vec<(NodeId, Failure)> = Vec::new();
        for (&id, res) in pending.iter().zip(outcomes) {
            match res {
                Ok(()) => {
                    send(Msg::Started(id));
                    to_wait.push(id);
                }
                Err(e) if e.transient && !ctx.cancel.is_cancelled() => again.push((id, e.failure)),
                Err(e) => failed(id, e.failure),
            }
        }
        pending = again.iter().map(|(id, _)| *id).collect();
        if again.is_empty() {
            Attempt::Done(())
        } else {
            Attempt::Retry(again)
        }
    };
    let announce = |attempt: u32, delay: Duration, again: &Vec<(NodeId, Failure)>| {
        for (id, failure) in again {
            tracing::info!(
                "{}: transient failure ({}); attempt {attempt} in {}",
                ctx.graph.name(*id),
                failure.message,
                crate::duration::seconds(delay)
            );
            send(Msg::Event(Event::Retrying {
                id: *id,
                attempt,
                delay,
                failure: failure.clone(),
            }));
        }
    };
    if let Some(policy) = policy {
        match retry(policy, Some(ctx.cancel), attempts, announce) {
            Ok(()) => {}
            Err(GaveUp::Failed(again)) => {
                for (id, failure) in again {
                    failed(id, failure);
                }
            }
            Err(GaveUp::Cancelled(again)) => {
                for (id, _) in again {
                    send(Msg::Done(ctx.cancelled_result(id, Some(began))));
                }
                return;
            }
        }
    }
    wait_ready(ctx, &to_wait, found, began, tx);
}

/// Waits for each started component to be ready (in parallel), reporting each when done.
fn wait_ready(ctx: &Ctx<'_>, to_wait: &[NodeId], found: &Found, began: Duration, tx: &Sender<Msg>) {
    let send = |m: Msg| {
        let _ = tx.send(m);
    };
    if let [id] = to_wait {
        send(Msg::Done(readiness(ctx, *id, found, began, tx)));
    } else {
        std::thread::scope(|s| {
            for &id in to_wait {
                s.spawn(move || send(Msg::Done(readiness(ctx, id, found, began, tx))));
            }
        });
    }
}

/// A component running as configured before is stopped first, to be started as configured
/// now; one that cannot be stopped has failed.
fn replace_changed(
    ctx: &Ctx<'_>,
    pending: &mut Vec<NodeId>,
    found: &Found,
    send: &dyn Fn(Msg),
    failed: &dyn Fn(NodeId, Failure),
) {
    pending.retain(|&id| {
        if !found.changed[id] {
            return true;
        }
        send(Msg::Event(Event::Replacing { id }));
        match ctx
            .driver
            .stop(id, ctx.policies[id].stop_timeout, ctx.cancel)
        {
            Ok(_) => true,
            Err(e) => {
                failed(id, e.failure);
                false
            }
        }
    });
}
