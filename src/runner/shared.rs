//! What a start run's scheduler and its workers share: the context every worker reads,
//! and the messages workers send back.

use std::time::Duration;

use super::clock::RunClock;
use super::events::Event;
use super::outcome::ComponentResult;
use super::policy::ComponentPolicy;
use crate::cancel::Cancel;
use crate::driver::Driver;
use crate::graph::NodeId;

/// What a worker tells the scheduler.
pub(super) enum Msg {
    /// Something to report.
    Event(Event),
    /// Its start action succeeded (`started` edges are satisfied).
    Started(NodeId),
    /// It is done, one way or another.
    Done(ComponentResult),
}

/// What every worker of one start run shares.
pub(super) struct Ctx<'a> {
    pub(super) policies: &'a [ComponentPolicy],
    pub(super) driver: &'a dyn Driver,
    pub(super) cancel: &'a Cancel,
    pub(super) clock: RunClock,
}

impl Ctx<'_> {
    pub(super) fn at(&self) -> Duration {
        self.clock.at()
    }

    pub(super) fn cancelled_result(&self, id: NodeId, began: Option<Duration>) -> ComponentResult {
        self.clock.cancelled(id, self.cancel, began)
    }
}

