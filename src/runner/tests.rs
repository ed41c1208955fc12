//! Scheduler tests against a scripted driver: no processes, exact orders and timings.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;
use crate::config::model::Retry;
use crate::driver::{
    ActionError, BatchKey, Driver, Failure, Observation, Poll, Status, StopOutcome,
};
use crate::graph::{Graph, NodeId};

#[derive(Clone, Default)]
struct Script {
    initially: Option<Status>,
    start_delay: Duration,
    transient_failures: u32,
    permanent_failure: bool,
    ready_after: Duration,
    fails_after: Option<Duration>,
    never_ready: bool,
    task: bool,
    batch: Option<usize>,
}

#[derive(Default)]
struct Fake {
    scripts: HashMap<NodeId, Script>,
    started_at: Mutex<HashMap<NodeId, Instant>>,
    attempts: Mutex<HashMap<NodeId, u32>>,
    log: Mutex<Vec<String>>,
    live: Mutex<(usize, usize)>,
    batches: Mutex<Vec<Vec<NodeId>>>,
}

impl Fake {
    fn script(&self, id: NodeId) -> Script {
        self.scripts.get(&id).cloned().unwrap_or_default()
    }
    fn note(&self, s: String) {
        self.log.lock().unwrap().push(s);
    }
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    fn attempts(&self, id: NodeId) -> u32 {
        self.attempts.lock().unwrap().get(&id).copied().unwrap_or(0)
    }
    fn leave(&self) {
        self.live.lock().unwrap().0 -= 1;
    }
}

impl Driver for Fake {
    fn observe(&self, ids: &[NodeId]) -> Vec<Observation> {
        ids.iter()
            .map(|id| Observation::new(self.script(*id).initially.unwrap_or(Status::Stopped), None))
            .collect()
    }
    fn start_batch(&self, ids: &[NodeId], cancel: &Cancel) -> Vec<Result<(), ActionError>> {
        self.batches.lock().unwrap().push(ids.to_vec());
        ids.iter().map(|&id| self.start(id, cancel)).collect()
    }
    fn start(&self, id: NodeId, cancel: &Cancel) -> Result<(), ActionError> {
        let s = self.script(id);
        let n = {
            let mut a = self.attempts.lock().unwrap();
            let e = a.entry(id).or_default();
            *e += 1;
            *e
        };
        self.note(format!("start {id}"));
        cancel.sleep(s.start_delay);
        if s.permanent_failure {
            return Err(ActionError::permanent(Failure::new("no such thing")));
        }
        if n <= s.transient_failures {
            return Err(ActionError {
                failure: Failure::new("engine busy"),
                transient: true,
            });
        }
        {
            let mut live = self.live.lock().unwrap();
            live.0 += 1;
            live.1 = live.1.max(live.0);
        }
        self.started_at.lock().unwrap().insert(id, Instant::now());
        Ok(())
    }
    fn poll(&self, id: NodeId) -> Poll {
        let s = self.script(id);
        let at = self.started_at.lock().unwrap().get(&id).copied();
        let Some(at) = at else { return Poll::Running };
        if let Some(f) = s.fails_after
            && at.elapsed() >= f
        {
            self.leave();
            return Poll::Failed(Failure {
                message: "crashed".into(),
                exit_code: Some(2),
                log_tail: vec!["boom".into()],
                environment: None,
            });
        }
        if s.never_ready || at.elapsed() < s.ready_after {
            return Poll::Pending(None);
        }
        self.note(format!("ready {id}"));
        self.leave();
        if s.task {
            Poll::Completed
        } else {
            Poll::Running
        }
    }
    fn poll_interval(&self, _: NodeId) -> Duration {
        Duration::from_millis(2)
    }
    fn batch_key(&self, id: NodeId) -> Option<BatchKey> {
        self.script(id).batch.map(BatchKey)
    }
    fn stop(&self, id: NodeId, _: Duration, _: &Cancel) -> Result<StopOutcome, ActionError> {
        self.note(format!("stop {id}"));
        if self.started_at.lock().unwrap().remove(&id).is_some() && self.script(id).never_ready {
            self.leave();
        }
        Ok(StopOutcome::Stopped)
    }
    fn log_tail(&self, _: NodeId, _: usize) -> Vec<String> {
        Vec::new()
    }
}

/// A graph from `name: [deps]` pairs (all tasks; `dep?` is a soft edge, `dep!` completed).
fn graph(spec: &[(&str, &[&str])]) -> Graph {
    let mut s = "components:\n".to_owned();
    for (n, deps) in spec {
        s.push_str(&format!(
            "  {n}:\n    kind: task\n    command: [x]\n    depends_on:\n"
        ));
        for d in *deps {
            if let Some(d) = d.strip_suffix('?') {
                s.push_str(&format!(
                    "      {d}: {{ condition: healthy, required: false }}\n"
                ));
            } else if let Some(d) = d.strip_suffix('~') {
                s.push_str(&format!("      {d}: started\n"));
            } else {
                s.push_str(&format!("      {d}: healthy\n"));
            }
        }
    }
    let v: yaml_serde::Value = yaml_serde::from_str(&s).unwrap();
    Graph::build(&crate::config::parse::parse(&v, Path::new("/")).unwrap()).unwrap()
}

fn settings(g: &Graph, timeout: Duration) -> Vec<ComponentPolicy> {
    let mut s = ComponentPolicy::uniform(g.len(), timeout);
    for n in &mut s {
        n.retry = Retry {
            attempts: 3,
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        };
    }
    s
}

fn run(g: &Graph, fake: &Fake, opts: StartOptions) -> RunReport {
    let s = settings(g, Duration::from_secs(5));
    start(
        g,
        &s,
        fake,
        &vec![true; g.len()],
        &opts,
        &Cancel::new(),
        &NullReporter,
    )
}

fn opts() -> StartOptions {
    StartOptions {
        jobs: 8,
        timeout: None,
        fail_fast: false,
    }
}

fn outcome(g: &Graph, r: &RunReport, name: &str) -> Outcome {
    r.get(g.id(name).unwrap()).unwrap().outcome
}

fn ms(d: u64) -> Duration {
    Duration::from_millis(d)
}

#[test]
fn a_chain_starts_in_order_each_after_the_previous_is_ready() {
    let g = graph(&[("c", &["b"]), ("b", &["a"]), ("a", &[])]);
    let mut fake = Fake::default();
    for id in 0..3 {
        fake.scripts.insert(
            id,
            Script {
                ready_after: ms(20),
                ..Script::default()
            },
        );
    }
    let r = run(&g, &fake, opts());
    assert!(r.success());
    let id = |n: &str| g.id(n).unwrap();
    let (first, second, third) = (id("a"), id("b"), id("c"));
    assert_eq!(
        fake.log(),
        [
            format!("start {first}"),
            format!("ready {first}"),
            format!("start {second}"),
            format!("ready {second}"),
            format!("start {third}"),
            format!("ready {third}")
        ]
    );
}

#[test]
fn a_component_goes_as_soon_as_its_own_dependencies_are_ready_not_in_waves() {
    // slow and fast are both in wave 1; after_fast must not wait for slow.
    let g = graph(&[("slow", &[]), ("fast", &[]), ("after_fast", &["fast"])]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        g.id("slow").unwrap(),
        Script {
            ready_after: ms(400),
            ..Script::default()
        },
    );
    fake.scripts.insert(
        g.id("fast").unwrap(),
        Script {
            ready_after: ms(10),
            ..Script::default()
        },
    );
    let r = run(&g, &fake, opts());
    let after = r.get(g.id("after_fast").unwrap()).unwrap();
    let slow = r.get(g.id("slow").unwrap()).unwrap();
    assert!(
        after.ended < slow.ended,
        "after_fast ended at {:?}, slow at {:?}",
        after.ended,
        slow.ended
    );
    assert!(after.began.unwrap() < ms(200));
}

#[test]
fn jobs_bounds_how_many_are_in_flight() {
    let g = graph(&[
        ("a", &[]),
        ("b", &[]),
        ("c", &[]),
        ("d", &[]),
        ("e", &[]),
        ("f", &[]),
    ]);
    let mut fake = Fake::default();
    for id in 0..6 {
        fake.scripts.insert(
            id,
            Script {
                ready_after: ms(30),
                ..Script::default()
            },
        );
    }
    let r = run(&g, &fake, StartOptions { jobs: 2, ..opts() });
    assert!(r.success());
    assert_eq!(fake.live.lock().unwrap().1, 2);
    let r2 = Fake::default();
    let _ = r2;
}

#[test]
fn a_failure_blocks_only_its_dependents_and_is_attempted_once() {
    let g = graph(&[
        ("bad", &[]),
        ("d1", &["bad"]),
        ("d2", &["bad"]),
        ("d3", &["d1"]),
        ("free", &[]),
    ]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        g.id("bad").unwrap(),
        Script {
            permanent_failure: true,
            ..Script::default()
        },
    );
    let r = run(&g, &fake, opts());
    assert_eq!(outcome(&g, &r, "bad"), Outcome::Failed);
    assert_eq!(fake.attempts(g.id("bad").unwrap()), 1);
    for d in ["d1", "d2", "d3"] {
        let c = r.get(g.id(d).unwrap()).unwrap();
        assert_eq!(c.outcome, Outcome::Blocked, "{d}");
        assert_eq!(c.blocked_by, g.id("bad"), "{d} names the root cause");
        assert_eq!(c.reason.as_deref(), Some("dependency bad failed"));
    }
    assert_eq!(outcome(&g, &r, "free"), Outcome::Started);
    assert!(!r.success());
}

#[test]
fn a_soft_edge_waits_but_does_not_block() {
    let g = graph(&[("opt", &[]), ("app", &["opt?"])]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        g.id("opt").unwrap(),
        Script {
            fails_after: Some(ms(30)),
            ready_after: ms(1000),
            ..Script::default()
        },
    );
    let r = run(&g, &fake, opts());
    assert_eq!(outcome(&g, &r, "opt"), Outcome::Failed);
    let app = r.get(g.id("app").unwrap()).unwrap();
    assert_eq!(app.outcome, Outcome::Started);
    assert!(app.began.unwrap() >= ms(30), "it waited for opt to finish");
}

#[test]
fn started_edges_do_not_wait_for_readiness() {
    let g = graph(&[("db", &[]), ("app", &["db~"])]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        g.id("db").unwrap(),
        Script {
            ready_after: ms(300),
            ..Script::default()
        },
    );
    let r = run(&g, &fake, opts());
    let app = r.get(g.id("app").unwrap()).unwrap();
    assert!(app.began.unwrap() < ms(150), "app began at {:?}", app.began);
    assert!(r.success());
}

#[test]
fn fail_fast_cancels_the_rest() {
    let g = graph(&[("bad", &[]), ("slow", &[]), ("later", &["slow"])]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        g.id("bad").unwrap(),
        Script {
            fails_after: Some(ms(10)),
            ready_after: ms(1000),
            ..Script::default()
        },
    );
    fake.scripts.insert(
        g.id("slow").unwrap(),
        Script {
            ready_after: ms(3000),
            ..Script::default()
        },
    );
    let t = Instant::now();
    let r = run(
        &g,
        &fake,
        StartOptions {
            fail_fast: true,
            ..opts()
        },
    );
    assert!(t.elapsed() < ms(1500));
    assert_eq!(outcome(&g, &r, "bad"), Outcome::Failed);
    assert_eq!(outcome(&g, &r, "slow"), Outcome::Cancelled);
    assert_eq!(outcome(&g, &r, "later"), Outcome::Cancelled);
    assert!(
        fake.log()
            .contains(&format!("stop {}", g.id("slow").unwrap())),
        "what was starting is stopped"
    );
}

#[test]
fn a_component_that_is_never_ready_times_out_and_is_stopped() {
    let g = graph(&[("stuck", &[]), ("dep", &["stuck"])]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        0,
        Script {
            never_ready: true,
            ..Script::default()
        },
    );
    let s = settings(&g, ms(100));
    let t = Instant::now();
    let r = start(
        &g,
        &s,
        &fake,
        &vec![true; 2],
        &opts(),
        &Cancel::new(),
        &NullReporter,
    );
    assert!(t.elapsed() < ms(1000));
    let stuck = r.get(0).unwrap();
    assert_eq!(stuck.outcome, Outcome::TimedOut);
    assert!(
        stuck
            .reason
            .as_deref()
            .unwrap()
            .contains("start_timeout of 100ms"),
        "{:?}",
        stuck.reason
    );
    assert_eq!(outcome(&g, &r, "dep"), Outcome::Blocked);
    assert!(fake.log().contains(&"stop 0".to_owned()));
}

#[test]
fn the_run_timeout_bounds_everything() {
    let g = graph(&[("stuck", &[]), ("dep", &["stuck"])]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        0,
        Script {
            never_ready: true,
            ..Script::default()
        },
    );
    let t = Instant::now();
    let r = run(
        &g,
        &fake,
        StartOptions {
            timeout: Some(ms(100)),
            ..opts()
        },
    );
    assert!(t.elapsed() < ms(1000), "{:?}", t.elapsed());
    assert_eq!(outcome(&g, &r, "stuck"), Outcome::TimedOut);
    assert_ne!(outcome(&g, &r, "dep"), Outcome::Started);
}

#[test]
fn transient_failures_are_retried_permanent_ones_are_not() {
    let g = graph(&[("flaky", &[]), ("broken", &[]), ("hopeless", &[])]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        0,
        Script {
            transient_failures: 2,
            ..Script::default()
        },
    );
    fake.scripts.insert(
        1,
        Script {
            permanent_failure: true,
            ..Script::default()
        },
    );
    fake.scripts.insert(
        2,
        Script {
            transient_failures: 99,
            ..Script::default()
        },
    );
    let r = run(&g, &fake, opts());
    assert_eq!(outcome(&g, &r, "flaky"), Outcome::Started);
    assert_eq!(fake.attempts(0), 3);
    assert_eq!(outcome(&g, &r, "broken"), Outcome::Failed);
    assert_eq!(fake.attempts(1), 1);
    assert_eq!(outcome(&g, &r, "hopeless"), Outcome::Failed);
    assert_eq!(fake.attempts(2), 3, "attempts are capped by retry.attempts");
}

#[test]
fn cancellation_stops_what_was_starting_and_reports_interrupted() {
    let g = graph(&[("slow", &[]), ("next", &["slow"])]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        0,
        Script {
            never_ready: true,
            ..Script::default()
        },
    );
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(ms(50));
        c2.cancel(CancelReason::Interrupted);
    });
    let s = settings(&g, Duration::from_secs(10));
    let t = Instant::now();
    let r = start(
        &g,
        &s,
        &fake,
        &vec![true; 2],
        &opts(),
        &cancel,
        &NullReporter,
    );
    assert!(t.elapsed() < ms(1000));
    assert!(r.interrupted);
    assert_eq!(outcome(&g, &r, "slow"), Outcome::Cancelled);
    assert_eq!(outcome(&g, &r, "next"), Outcome::Cancelled);
    assert!(fake.log().contains(&"stop 0".to_owned()));
}

#[test]
fn what_is_up_already_is_not_started_again() {
    let g = graph(&[("up", &[]), ("done", &[]), ("app", &["up", "done"])]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        0,
        Script {
            initially: Some(Status::Running),
            ..Script::default()
        },
    );
    fake.scripts.insert(
        1,
        Script {
            initially: Some(Status::Completed),
            task: true,
            ..Script::default()
        },
    );
    let r = run(&g, &fake, opts());
    assert_eq!(outcome(&g, &r, "up"), Outcome::AlreadyRunning);
    assert_eq!(outcome(&g, &r, "done"), Outcome::AlreadyRunning);
    assert_eq!(outcome(&g, &r, "app"), Outcome::Started);
    assert_eq!(
        fake.log().iter().filter(|l| l.starts_with("start")).count(),
        1
    );
}

#[test]
fn components_ready_together_with_one_batch_key_start_in_one_call() {
    let g = graph(&[("a", &[]), ("b", &[]), ("c", &[]), ("d", &["a"])]);
    let mut fake = Fake::default();
    for id in 0..4 {
        fake.scripts.insert(
            id,
            Script {
                batch: Some(1),
                ..Script::default()
            },
        );
    }
    let r = run(&g, &fake, opts());
    assert!(r.success());
    let batches = fake.batches.lock().unwrap().clone();
    assert_eq!(batches[0], vec![0, 1, 2]);
    assert_eq!(batches.len(), 1, "d went alone, with start(): {batches:?}");
}

#[test]
fn stop_goes_in_reverse_order_and_includes_running_dependents() {
    let g = graph(&[
        ("db", &[]),
        ("api", &["db"]),
        ("web", &["api"]),
        ("other", &[]),
    ]);
    let mut fake = Fake::default();
    for id in 0..4 {
        fake.scripts.insert(
            id,
            Script {
                initially: Some(Status::Running),
                ..Script::default()
            },
        );
    }
    let s = settings(&g, Duration::from_secs(1));
    let mut sel = vec![false; 4];
    sel[0] = true;
    let r = stop(
        &g,
        &s,
        &fake,
        &sel,
        &StopOptions {
            jobs: 4,
            timeout: None,
            include_dependents: true,
        },
        &Cancel::new(),
        &NullReporter,
    );
    assert_eq!(fake.log(), ["stop 2", "stop 1", "stop 0"]);
    assert!(r.success());
    assert!(r.get(3).is_none(), "unrelated components are left alone");
}

#[test]
fn the_critical_chain_follows_the_last_dependency() {
    let g = graph(&[
        ("a", &[]),
        ("b", &["a"]),
        ("quick", &[]),
        ("c", &["b", "quick"]),
    ]);
    let mut fake = Fake::default();
    fake.scripts.insert(
        0,
        Script {
            ready_after: ms(30),
            ..Script::default()
        },
    );
    fake.scripts.insert(
        1,
        Script {
            ready_after: ms(30),
            ..Script::default()
        },
    );
    let r = run(&g, &fake, opts());
    let names: Vec<&str> = r
        .critical_chain(&g)
        .into_iter()
        .map(|i| g.name(i))
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn a_batch_counts_as_one_job() {
    let g = graph(&[
        ("a", &[]),
        ("b", &[]),
        ("c", &[]),
        ("d", &[]),
        ("solo", &[]),
    ]);
    let mut fake = Fake::default();
    for id in 0..4 {
        fake.scripts.insert(
            id,
            Script {
                batch: Some(1),
                ready_after: ms(20),
                ..Script::default()
            },
        );
    }
    let r = run(&g, &fake, StartOptions { jobs: 1, ..opts() });
    assert!(r.success());
    let batches = fake.batches.lock().unwrap().clone();
    assert_eq!(
        batches,
        vec![vec![0, 1, 2, 3]],
        "four services of one repository in one call, with jobs = 1"
    );
    let solo = r.get(4).unwrap();
    let last_of_batch = (0..4).map(|i| r.get(i).unwrap().ended).max().unwrap();
    assert!(
        solo.began.unwrap() >= last_of_batch,
        "solo waited for the one job slot"
    );
}
