//! How a supervised component is treated when it stops: whether its restart policy
//! restarts it, how long the backoff before the restart is (exponential, capped, with
//! jitter, starting over once it has been ready for `reset_after`), and when it is given up.

use std::time::Duration;

use crate::config::model::{ComponentSpec, Liveness, RestartPolicy};

/// One component's supervision, resolved from its spec.
#[derive(Debug, Clone)]
pub(super) struct Policy {
    pub(super) restart: RestartPolicy,
    pub(super) max_restarts: Option<u32>,
    pub(super) backoff: Duration,
    pub(super) max_backoff: Duration,
    pub(super) reset_after: Duration,
    pub(super) liveness: Option<Liveness>,
    pub(super) watch: Vec<String>,
}

/// Why a component stopped running, as far as the restart policy cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Down {
    /// It exited with code 0.
    Clean,
    /// It exited otherwise, crashed, failed to start, or was found not alive.
    Failed,
}

/// What to do about a component that stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Restart it after this long; it is the `n`th restart in a row.
    Restart { delay: Duration, streak: u32 },
    /// Leave it: its policy does not restart it for this.
    Leave,
    /// Its restarts in a row reached `max_restarts`: it has failed for good.
    GiveUp { after: u32 },
}

impl Policy {
    /// The supervision of a component.
    pub(super) fn of(spec: &ComponentSpec) -> Self {
        let s = &spec.supervision;
        Self {
            restart: s.policy(spec.kind),
            max_restarts: s.max_restarts,
            backoff: s.backoff,
            max_backoff: s.max_backoff.max(s.backoff),
            reset_after: s.reset_after,
            liveness: s.liveness.clone(),
            watch: s.watch.clone(),
        }
    }

    /// The wait before the `streak`th restart in a row (1, 2, ...), before jitter:
    /// `backoff`, doubled for each restart in a row, at most `max_backoff`.
    pub(super) fn delay(&self, streak: u32) -> Duration {
        let doublings = streak.saturating_sub(1).min(30);
        self.backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }

    /// What to do when the component stopped for `why`, after `streak` restarts in a row
    /// (already reset when it had been ready for `reset_after`).
    pub(super) fn verdict(&self, why: &Down, streak: u32) -> Verdict {
        let restart = match (self.restart, why) {
            (RestartPolicy::No, _) | (RestartPolicy::OnFailure, Down::Clean) => false,
            (RestartPolicy::OnFailure, Down::Failed) | (RestartPolicy::Always, _) => true,
        };
        if !restart {
            return Verdict::Leave;
        }
        if self.max_restarts.is_some_and(|m| streak >= m) {
            return Verdict::GiveUp { after: streak };
        }
        let delay = self.delay(streak + 1);
        Verdict::Restart {
            delay: jitter(delay),
            streak: streak + 1,
        }
    }
}

/// ±20 % of jitter, so that components that crash together do not restart in lockstep.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(fastrand::f64().mul_add(0.4, 0.8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{ComponentSpec, Kind};

    fn policy(restart: RestartPolicy, max: Option<u32>) -> Policy {
        let mut spec = ComponentSpec::new(Kind::Process);
        spec.supervision.restart = Some(restart);
        spec.supervision.max_restarts = max;
        spec.supervision.backoff = Duration::from_millis(100);
        spec.supervision.max_backoff = Duration::from_millis(500);
        Policy::of(&spec)
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap_with_jitter() {
        let p = policy(RestartPolicy::OnFailure, None);
        let ms: Vec<u128> = (1..=5).map(|n| p.delay(n).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 500, 500]);
        for streak in 0..4 {
            let Verdict::Restart { delay, streak: n } = p.verdict(&Down::Failed, streak) else {
                panic!("restarts");
            };
            assert_eq!(n, streak + 1);
            let base = p.delay(n).as_secs_f64();
            assert!((base * 0.8..=base * 1.2).contains(&delay.as_secs_f64()));
        }
        assert_eq!(p.delay(u32::MAX), Duration::from_millis(500), "no overflow");
    }

    #[test]
    fn policies_decide_and_max_restarts_gives_up() {
        let no = policy(RestartPolicy::No, None);
        assert_eq!(no.verdict(&Down::Failed, 0), Verdict::Leave);
        let on = policy(RestartPolicy::OnFailure, Some(2));
        assert_eq!(on.verdict(&Down::Clean, 0), Verdict::Leave);
        assert!(matches!(
            on.verdict(&Down::Failed, 1),
            Verdict::Restart { streak: 2, .. }
        ));
        assert_eq!(on.verdict(&Down::Failed, 2), Verdict::GiveUp { after: 2 });
        let always = policy(RestartPolicy::Always, None);
        assert!(matches!(
            always.verdict(&Down::Clean, 0),
            Verdict::Restart { .. }
        ));
        let mut task = ComponentSpec::new(Kind::Task);
        task.supervision.backoff = Duration::ZERO;
        assert_eq!(Policy::of(&task).restart, RestartPolicy::No);
        assert_eq!(Policy::of(&task).delay(3), Duration::ZERO);
    }
}
