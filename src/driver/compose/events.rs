//! One engine's event stream, shared by everything that listens to the engine: the
//! Engine API's (`GET /events`) where the engine is read through the API, else `docker
//! events` (the CLI). Container events of compose projects only, each with its container,
//! project, service, action, exit code and time.
//!
//! - Started once, on first use, from a time (events from then on are replayed, so none
//!   between a first look at the engine and the stream's connection is missed); when the
//!   engine ends it (a restart of the engine, a dropped connection), it is read again a
//!   second later from the newest event seen, without handing that one over twice. It
//!   counts as live from its start, and after an end from its next event: readiness waits
//!   poll meanwhile.
//! - Every event goes to the engine's hook (which drops its shared container list and
//!   rings the driver's `Changes`: readiness waits and `status --watch`) and to the
//!   [`Subscription`]s of its service (`tta up`'s watchers and log followers), whose waits
//!   sleep on a bell it rings. Nothing is polled.
//! - It ends with its engine.

use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::api::Api;
use super::event::Event;
use super::event::{nanos, since_arg};
use super::lock;
use crate::cancel::{Bell, Cancel, CancelReason, Level};
use crate::process::Spec;

/// How long after the stream ended it is read again.
const AGAIN: Duration = Duration::from_secs(1);

const OFF: u8 = 0;
const LIVE: u8 = 1;
const ENDED: u8 = 2;

/// One listener's view of one service's events.
pub(crate) struct Subscription {
    project: String,
    service: String,
    /// Events older than this (the engine's time of the newest event handed over before
    /// it subscribed) are a replay of what it looked at already, not news.
    floor: i64,
    bell: Arc<Bell>,
    events: Mutex<Vec<Event>>,
}

impl Subscription {
    /// Waits for events (returns them, oldest first) or the cancel (returns `None`).
    pub(super) fn next(&self, cancel: &Cancel) -> Option<Vec<Event>> {
        let _watch = cancel.watch(&self.bell);
        let mut got = Vec::new();
        self.bell.wait_until(None, || {
            got = std::mem::take(&mut *lock(&self.events));
            !got.is_empty() || cancel.is_cancelled()
        });
        (!cancel.is_cancelled()).then_some(got)
    }
}

/// Where the stream is read from.
pub(super) enum Source {
    /// The Engine API.
    Api(Arc<Api>),
    /// `docker events` ([`CLI_ARGS`]), for an engine read through the CLI.
    Cli(Spec),
}

/// What the stream calls with every event, and when it ended.
pub(super) struct Hooks {
    pub(super) on_event: Box<dyn Fn(&Event) + Send>,
    pub(super) on_end: Box<dyn Fn() + Send>,
}

/// One engine's stream and its subscribers.
#[derive(Default)]
pub(super) struct Events {
    state: AtomicU8,
    /// The engine's time of the newest event handed over (0: none yet).
    newest: AtomicI64,
    subs: Mutex<Vec<Weak<Subscription>>>,
    /// Ends the stream (when the engine goes).
    stop: Cancel,
}

impl Drop for Events {
    fn drop(&mut self) {
        self.stop.cancel(CancelReason::Interrupted);
    }
}

impl Events {
    /// Whether the stream is being read (not yet started, or ended and not heard from
    /// since: false).
    pub(super) fn live(&self) -> bool {
        self.state.load(Ordering::SeqCst) == LIVE
    }

    /// Ends the stream for good.
    pub(super) fn stop(&self) {
        self.stop.cancel(CancelReason::Interrupted);
    }

    /// Starts reading the stream from `since` (seconds since the epoch) on a thread of its
    /// own, unless it was started before; `source` is asked for only then.
    pub(super) fn start(
        self: &Arc<Self>,
        source: impl FnOnce() -> Source,
        since: f64,
        hooks: Hooks,
    ) {
        if self
            .state
            .compare_exchange(OFF, LIVE, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        let (me, source) = (Arc::clone(self), source());
        let started = std::thread::Builder::new()
            .name("tta-engine-events".into())
            .stack_size(256 * 1024)
            .spawn(move || me.read(&source, nanos(since), &hooks));
        if let Err(e) = started {
            tracing::debug!("cannot start a thread for the engine's events: {e}");
            self.state.store(ENDED, Ordering::SeqCst);
        }
    }

    /// Registers a listener of one service's events from now on.
    pub(super) fn subscribe(&self, project: &str, service: &str) -> Arc<Subscription> {
        let sub = Arc::new(Subscription {
            project: project.to_owned(),
            service: service.to_owned(),
            floor: self.newest.load(Ordering::SeqCst),
            bell: Bell::new(),
            events: Mutex::new(Vec::new()),
        });
        lock(&self.subs).push(Arc::downgrade(&sub));
        sub
    }

    /// Hands an event to the hook and to the subscribers of its service.
    fn deliver(&self, e: &Event, hooks: &Hooks) {
        // A stream read again is live once it speaks.
        let _ = self
            .state
            .compare_exchange(ENDED, LIVE, Ordering::SeqCst, Ordering::SeqCst);
        self.newest.fetch_max(e.time_nano, Ordering::SeqCst);
        tracing::trace!(
            "engine event: {}/{}: {} ({})",
            e.project,
            e.service,
            e.action,
            e.id
        );
        (hooks.on_event)(e);
        let subs: Vec<Arc<Subscription>> = {
            let mut all = lock(&self.subs);
            all.retain(|w| w.strong_count() > 0);
            all.iter().filter_map(Weak::upgrade).collect()
        };
        for s in subs
            .iter()
            .filter(|s| s.project == e.project && s.service == e.service && e.time_nano >= s.floor)
        {
            lock(&s.events).push(e.clone());
            s.bell.ring();
        }
    }

    /// Reads the stream until the engine goes, again after each end.
    fn read(&self, source: &Source, mut since: i64, hooks: &Hooks) {
        // After a reconnection, what was handed over already is replayed: left out.
        let mut after = i64::MIN;
        loop {
            let mut each = |e: Event| {
                if e.time_nano > after {
                    self.deliver(&e, hooks);
                }
            };
            let from = since_arg(since);
            let why = match source {
                Source::Api(api) => api.events(&from, &mut each, &self.stop),
                Source::Cli(spec) => cli(spec, &from, &mut each, &self.stop),
            };
            if self.stop.is_cancelled() {
                return;
            }
            // Said once per end, not at each attempt to read it again.
            if self.state.swap(ENDED, Ordering::SeqCst) == LIVE {
                (hooks.on_end)();
            }
            tracing::debug!("engine events: {why}; read again in {AGAIN:?}");
            if self.stop.sleep(AGAIN) {
                return;
            }
            let newest = self.newest.load(Ordering::SeqCst);
            if newest > 0 {
                (since, after) = (newest, newest);
            }
        }
    }
}

/// Reads `docker events --since FROM` until it ends or `stop`; returns why it ended.
fn cli(spec: &Spec, from: &str, each: &mut dyn FnMut(Event), stop: &Cancel) -> String {
    let mut said = String::new();
    let ended = spec
        .clone()
        .args(["--since", from])
        .cancel(stop, Level::Graceful)
        .each_line(&mut |line| {
            let text = String::from_utf8_lossy(&line.bytes);
            match Event::from_json(&text) {
                Some(e) => each(e),
                None => said = text.into_owned(),
            }
            true
        });
    match ended {
        Ok(status) if said.is_empty() => format!("`docker events` ended ({status})"),
        Ok(status) => format!("`docker events` ended ({status}): {said}"),
        Err(e) => format!("`docker events` {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscriber_hears_its_service_from_when_it_subscribed() {
        let events = Events::default();
        let hooks = Hooks {
            on_event: Box::new(|_| {}),
            on_end: Box::new(|| {}),
        };
        let event = |service: &str, action: &str, t: i64| Event {
            id: "c".into(),
            project: "p".into(),
            service: service.into(),
            action: action.into(),
            exit_code: None,
            time_nano: t,
        };
        events.deliver(&event("s", "die", 100), &hooks);
        let sub = events.subscribe("p", "s");
        // A replay of the past (older than what was handed over before it subscribed).
        events.deliver(&event("s", "die", 50), &hooks);
        events.deliver(&event("other", "start", 200), &hooks);
        events.deliver(&event("s", "start", 200), &hooks);
        let got = sub.next(&Cancel::new()).unwrap();
        assert_eq!(got, [event("s", "start", 200)]);
        let cancel = Cancel::new();
        cancel.cancel(CancelReason::Interrupted);
        assert_eq!(sub.next(&cancel), None);
        drop(sub);
        events.deliver(&event("s", "die", 300), &hooks);
        assert!(
            lock(&events.subs).is_empty(),
            "a dropped subscriber is forgotten"
        );
    }

    #[test]
    fn a_stream_that_ends_is_read_again_from_its_newest_event_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let line = |t: u64| {
            format!(
                r#"echo '{{"id":"c","Action":"start","Actor":{{"Attributes":{{"com.docker.compose.project":"p","com.docker.compose.service":"s"}}}},"timeNano":{t}}}'"#
            )
        };
        // A `docker events` that ends after two events, then replays the second when read
        // again, and stays.
        let script = format!(
            "n=$(cat {d}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > {d}/n; echo \"$2\" >> {d}/since
             case $n in 1) {}; {};; *) {}; {}; exec sleep 30;; esac",
            line(100),
            line(200),
            line(200),
            line(300)
        );
        let (tx, rx) = std::sync::mpsc::channel();
        let ends = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&ends);
        let tx = Mutex::new(tx);
        let hooks = Hooks {
            on_event: Box::new(move |e| {
                let _ = lock(&tx).send(e.time_nano);
            }),
            on_end: Box::new(move || {
                counted.fetch_add(1, Ordering::SeqCst);
            }),
        };
        let events = Arc::new(Events::default());
        let sub = events.subscribe("p", "s");
        let spec = Spec::new(["sh", "-c", script.as_str(), "sh"]);
        events.start(|| Source::Cli(spec), 0.0, hooks);
        let got: Vec<i64> = (0..3)
            .map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        assert_eq!(got, [100, 200, 300], "the replayed event handed over once");
        assert!(events.live(), "live again once it spoke");
        assert_eq!(ends.load(Ordering::SeqCst), 1, "one end, said once");
        let heard: Vec<i64> = sub
            .next(&Cancel::new())
            .unwrap()
            .iter()
            .map(|e| e.time_nano)
            .collect();
        assert!(heard.starts_with(&[100]), "{heard:?}");
        let since = std::fs::read_to_string(dir.path().join("since")).unwrap();
        assert_eq!(
            since.lines().collect::<Vec<_>>(),
            ["0.000000000", "0.000000200"]
        );
        events.stop();
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    }
}
