//! Container status from one list of the engine's containers (`GET /containers/json`,
//! or `docker ps -a` where the engine is read through the CLI), whatever made them.
//!
//! Compose v1 and v2 both label their containers (`com.docker.compose.project`,
//! `.service`, `.oneoff`), so one `docker ps -a --filter label=com.docker.compose.project`
//! call (~11 ms) gives every compose container of an engine, grouped by those labels; names
//! are never parsed. The format template asks for the labels one by one (the `Labels`
//! column is a lossy comma-joined string). Health, exit code and age come from the `Status`
//! text ("Up 2 seconds (healthy)", "Up 1 second (health: starting)", "Exited (1) 3 seconds
//! ago"), so nothing needs an inspect.
//!
//! The parser takes what the template prints (JSON Lines), and also a JSON array, plain
//! `{{json .}}` lines (labels from the `Labels` string), Podman's JSON (labels as a
//! mapping), the Engine API's own objects (`Names` with a leading `/`, `Ports` as
//! objects) and compose v2's `ps --format json` in each of its shapes (one array before
//! 2.21, JSON Lines since, `Project`/`Service`/`Health`/`Publishers` fields, v5.5's
//! `Engine`), so a CLI that formats differently still works; empty output is no
//! containers. Recorded samples of each are in `tests/fixtures/ps/`.

use serde_json::Value;

use crate::driver::Health;

/// The `--format` template of the `docker ps` call.
pub(crate) const TEMPLATE: &str = concat!(
    r#"{"project":{{json (.Label "com.docker.compose.project")}},"#,
    r#""service":{{json (.Label "com.docker.compose.service")}},"#,
    r#""oneoff":{{json (.Label "com.docker.compose.oneoff")}},"#,
    r#""id":{{json .ID}},"name":{{json .Names}},"state":{{json .State}},"#,
    r#""status":{{json .Status}},"created":{{json .CreatedAt}},"ports":{{json .Ports}}}"#
);

/// A container's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Running (possibly paused).
    Running,
    /// Exited.
    Exited,
    /// Created, never started.
    Created,
    /// Restarting after a crash.
    Restarting,
    /// Paused.
    Paused,
    /// Dead or being removed.
    Dead,
}

/// One compose container.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Container {
    /// Its compose project.
    pub project: String,
    /// Its compose service.
    pub service: String,
    /// A `compose run` container rather than the service's own.
    pub oneoff: bool,
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// Docker's status text.
    pub status: String,
    /// The healthcheck's verdict, when it has one.
    pub health: Option<Health>,
    /// The exit code of an exited (or restarting) container.
    pub exit_code: Option<i32>,
    /// Seconds since it started (running) or stopped (exited), as far as the text says.
    pub age: Option<f64>,
    /// How precise `age` is, in seconds.
    pub age_precision: f64,
    /// When it was created, seconds since the epoch.
    pub created: Option<f64>,
    /// How often the engine restarted it (from `docker inspect`, for young containers).
    pub restart_count: Option<u32>,
    /// When its current run started, seconds since the epoch (from `docker inspect`).
    pub started_at: Option<f64>,
    /// Its published ports.
    pub ports: Vec<Port>,
}

/// A published port: where the engine's host listens, and the container's port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Port {
    /// The host address it is bound to (`0.0.0.0`, `::` or empty: every address).
    pub ip: String,
    /// The port on the engine's host.
    pub public: u16,
    /// The port in the container.
    pub private: u16,
    /// `tcp` or `udp`.
    pub proto: String,
}

impl Port {
    /// Where to reach it: `HOST:PORT` (`/udp` appended for UDP), with `engine_host` for
    /// a port bound to every address.
    pub(crate) fn address(&self, engine_host: &str) -> String {
        let host = match self.ip.as_str() {
            "" | "0.0.0.0" | "::" | "[::]" => engine_host,
            ip => ip,
        };
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let udp = if self.proto == "udp" { "/udp" } else { "" };
        format!("{host}:{}{udp}", self.public)
    }
}

/// A restarted container counts as up only once its current run has lasted this long: the
/// engine's own rule (its restart backoff resets after a run of 10 s).
pub(crate) const CRASH_WINDOW: f64 = 10.0;

/// The `--format` of the `docker inspect` that gives restart counts.
pub(crate) const INSPECT_TEMPLATE: &str = "{{.Id}} {{.RestartCount}} {{.State.StartedAt}}";

impl Container {
    /// Running for so short a time that a restart may hide behind it: worth an inspect.
    pub(crate) fn young(&self) -> bool {
        self.state == State::Restarting
            || (self.state == State::Running
                && self
                    .age
                    .is_none_or(|a| a < CRASH_WINDOW + 1.0 && self.age_precision <= 1.0))
    }

    /// In a crash loop: restarting now, or restarted by the engine and not yet up for
    /// [`CRASH_WINDOW`], however often it is "running" between crashes.
    pub(crate) fn crash_looping(&self, now: f64) -> bool {
        self.state == State::Restarting
            || (self.state == State::Running
                && self.restart_count.is_some_and(|n| n > 0)
                && self.started_at.is_some_and(|t| now - t < CRASH_WINDOW))
    }
}

/// Reads `docker inspect --format INSPECT_TEMPLATE` output into the containers it names
/// (ids match by prefix: `docker ps` prints short ids).
pub(crate) fn apply_inspect(output: &str, containers: &mut [Container]) {
    for line in output.lines() {
        let mut f = line.split_whitespace();
        let (Some(id), Some(count), Some(started)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let rest: Vec<&str> = f.collect();
        let started = if rest.is_empty() {
            started.to_owned()
        } else {
            format!("{started} {}", rest.join(" "))
        };
        for c in containers
            .iter_mut()
            .filter(|c| !c.id.is_empty() && (id.starts_with(&c.id) || c.id.starts_with(id)))
        {
            c.restart_count = count.parse().ok();
            c.started_at = parse_time(&started);
        }
    }
}

/// `2026-11-26T11:17:55.123Z` (docker) or `2026-11-26 11:17:55 +0000 UTC` (podman) →
/// seconds since the epoch.
pub(crate) fn parse_time(s: &str) -> Option<f64> {
    if let Some((date, rest)) = s.split_once('T') {
        let clock = rest.trim_end_matches('Z');
        let (clock, offset) = match clock.find(['+', '-']) {
            Some(i) => (&clock[..i], clock[i..].replace(':', "")),
            None => (clock, "+0000".to_owned()),
        };
        return parse_created(&format!("{date} {clock} {offset}"));
    }
    parse_created(s)
}

/// Parses the output of `docker ps`: JSON Lines, a JSON array, or nothing.
pub(crate) fn parse(output: &str) -> Result<Vec<Container>, String> {
    let t = output.trim();
    if t.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<Value> = if t.starts_with('[') {
        serde_json::from_str::<Vec<Value>>(t)
            .map_err(|e| format!("cannot read `docker ps` output as JSON: {e}"))?
    } else {
        t.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|e| {
                    format!(
                        "cannot read `docker ps` output as JSON: {e} in `{}`",
                        l.chars().take(80).collect::<String>()
                    )
                })
            })
            .collect::<Result<_, _>>()?
    };
    Ok(values.iter().filter_map(container).collect())
}

fn field<'v>(v: &'v Value, names: &[&str]) -> Option<&'v Value> {
    names
        .iter()
        .find_map(|n| v.get(*n))
        .filter(|x| !x.is_null())
}

fn text(v: &Value, names: &[&str]) -> String {
    match field(v, names) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// A label, from the template's own field, a label mapping (Podman) or the `Labels` string.
fn label(v: &Value, own: &str, key: &str) -> Option<String> {
    if let Some(Value::String(s)) = v.get(own) {
        return Some(s.clone());
    }
    match v.get("Labels") {
        Some(Value::Object(m)) => m.get(key).and_then(Value::as_str).map(str::to_owned),
        Some(Value::String(s)) => s.split(',').find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.to_owned())
        }),
        _ => None,
    }
}

/// One container from any of the shapes the parser takes.
pub(crate) fn container(v: &Value) -> Option<Container> {
    let project = label(v, "project", "com.docker.compose.project")
        .or_else(|| field(v, &["Project"])?.as_str().map(str::to_owned))?;
    let service = label(v, "service", "com.docker.compose.service")
        .or_else(|| field(v, &["Service"])?.as_str().map(str::to_owned))?;
    if project.is_empty() || service.is_empty() {
        return None;
    }
    let oneoff = label(v, "oneoff", "com.docker.compose.oneoff")
        .is_some_and(|s| s.eq_ignore_ascii_case("true"));
    let status = text(v, &["status", "Status"]);
    let state_text = text(v, &["state", "State"]).to_ascii_lowercase();
    let parsed = parse_status(&status);
    let state = match state_text.as_str() {
        "running" => State::Running,
        "exited" | "stopped" => State::Exited,
        "created" | "configured" | "initialized" => State::Created,
        "restarting" => State::Restarting,
        "paused" => State::Paused,
        "dead" | "removing" => State::Dead,
        _ => parsed.state.unwrap_or(State::Dead),
    };
    let health = parsed
        .health
        .or_else(|| match text(v, &["Health"]).as_str() {
            "healthy" => Some(Health::Healthy),
            "unhealthy" => Some(Health::Unhealthy),
            "starting" => Some(Health::Starting),
            _ => None,
        });
    let exit_code = parsed.exit_code.or_else(|| {
        field(v, &["ExitCode"])
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .filter(|_| state == State::Exited)
    });
    Some(Container {
        project,
        service,
        oneoff,
        id: text(v, &["id", "ID", "Id"]),
        name: names(v),
        state,
        health,
        exit_code,
        age: parsed.age,
        age_precision: parsed.precision,
        created: match field(v, &["created", "CreatedAt", "Created"]) {
            Some(Value::String(s)) => parse_created(s),
            Some(Value::Number(n)) => n.as_f64(),
            _ => None,
        },
        status,
        restart_count: None,
        started_at: None,
        ports: ports(v),
    })
}

/// Its name: the template's, compose v2's `Name`, or the first of `Names` (a string, or
/// the API's list with a leading `/`).
fn names(v: &Value) -> String {
    let name = match field(v, &["name", "Name"]) {
        Some(Value::String(s)) => s.clone(),
        _ => match field(v, &["Names"]) {
            Some(Value::Array(a)) => a
                .iter()
                .find_map(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            Some(Value::String(s)) => s.split(',').next().unwrap_or_default().to_owned(),
            _ => String::new(),
        },
    };
    name.trim_start_matches('/').to_owned()
}

/// Published ports, from the API's `Ports` objects, compose v2's `Publishers`, or the
/// CLI's `Ports` text (`0.0.0.0:8080->80/tcp, :::8080->80/tcp`).
fn ports(v: &Value) -> Vec<Port> {
    let num = |x: &Value, k: &str| {
        x.get(k)
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
    };
    let s = |x: &Value, k: &str| {
        x.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut out: Vec<Port> = match field(v, &["ports", "Ports", "Publishers"]) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|p| {
                Some(Port {
                    ip: if p.get("IP").is_some() {
                        s(p, "IP")
                    } else {
                        s(p, "URL")
                    },
                    public: num(p, "PublicPort").or_else(|| num(p, "PublishedPort"))?,
                    private: num(p, "PrivatePort").or_else(|| num(p, "TargetPort"))?,
                    proto: match (s(p, "Type"), s(p, "Protocol")) {
                        (t, _) if !t.is_empty() => t,
                        (_, p) if !p.is_empty() => p,
                        _ => "tcp".to_owned(),
                    },
                })
                .filter(|p| p.public > 0)
            })
            .collect(),
        Some(Value::String(text)) => text
            .split(',')
            .filter_map(|p| port_text(p.trim()))
            .collect(),
        _ => Vec::new(),
    };
    out.dedup();
    out
}

/// `0.0.0.0:8080->80/tcp`, `[::]:8080->80/tcp`, `:::8080->80/tcp`; a port that is only
/// exposed (`80/tcp`) is not published.
fn port_text(p: &str) -> Option<Port> {
    let (public, private) = p.split_once("->")?;
    let (private, proto) = private.split_once('/').unwrap_or((private, "tcp"));
    let (ip, port) = public.rsplit_once(':')?;
    Some(Port {
        ip: ip.trim_start_matches('[').trim_end_matches(']').to_owned(),
        public: port.parse().ok()?,
        private: private.parse().ok()?,
        proto: proto.to_owned(),
    })
}

/// What a `Status` text says.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct StatusText {
    /// The state it implies.
    pub state: Option<State>,
    /// Health, for a container with a healthcheck.
    pub health: Option<Health>,
    /// The exit code, for `Exited (N)` and `Restarting (N)`.
    pub exit_code: Option<i32>,
    /// Seconds up (running) or since exit.
    pub age: Option<f64>,
    /// The precision of `age`, in seconds.
    pub precision: f64,
}

/// Reads docker's human status: "Up 2 seconds (healthy)", "Up About a minute (health:
/// starting)", "Up 3 hours (unhealthy)", "Up 5 minutes (Paused)", "Exited (137) 2 days ago",
/// "Restarting (1) 5 seconds ago", "Created", "Dead", "Removal In Progress".
pub(crate) fn parse_status(s: &str) -> StatusText {
    let mut out = StatusText::default();
    let lower = s.trim().to_ascii_lowercase();
    let code = |rest: &str| {
        rest.trim_start()
            .strip_prefix('(')
            .and_then(|r| r.split_once(')'))
            .and_then(|(n, after)| n.trim().parse::<i32>().ok().map(|n| (n, after.to_owned())))
    };
    if let Some(rest) = lower.strip_prefix("up ") {
        out.state = Some(if rest.contains("(paused)") {
            State::Paused
        } else {
            State::Running
        });
        out.health = if rest.contains("(health: starting)") {
            Some(Health::Starting)
        } else if rest.contains("(unhealthy)") {
            Some(Health::Unhealthy)
        } else if rest.contains("(healthy)") {
            Some(Health::Healthy)
        } else {
            None
        };
        let span = rest.split('(').next().unwrap_or(rest);
        (out.age, out.precision) = duration_text(span);
    } else if let Some(rest) = lower.strip_prefix("exited") {
        out.state = Some(State::Exited);
        if let Some((n, after)) = code(rest) {
            out.exit_code = Some(n);
            (out.age, out.precision) = duration_text(after.trim().trim_end_matches("ago"));
        }
    } else if let Some(rest) = lower.strip_prefix("restarting") {
        out.state = Some(State::Restarting);
        out.exit_code = code(rest).map(|(n, _)| n);
    } else if lower.starts_with("created") {
        out.state = Some(State::Created);
    } else if lower.starts_with("dead") || lower.starts_with("removal") {
        out.state = Some(State::Dead);
    }
    out
}

/// "2 seconds", "Less than a second", "About a minute", "3 hours", "About an hour", "2 days",
/// "3 weeks", "4 months", "2 years" → seconds and precision.
fn duration_text(s: &str) -> (Option<f64>, f64) {
    let s = s.trim();
    let words: Vec<&str> = s.split_whitespace().collect();
    let (n, unit) = match words.as_slice() {
        ["less", "than", "a", "second", ..] => return (Some(0.0), 1.0),
        ["about", "a" | "an", unit, ..] => (1.0, *unit),
        [n, unit, ..] => match n.parse::<f64>() {
            Ok(n) => (n, *unit),
            Err(_) => return (None, 0.0),
        },
        _ => return (None, 0.0),
    };
    let unit_secs = match unit.trim_end_matches('s') {
        "second" => 1.0,
        "minute" => 60.0,
        "hour" => 3600.0,
        "day" => 86_400.0,
        "week" => 604_800.0,
        "month" => 2_592_000.0,
        "year" => 31_536_000.0,
        _ => return (None, 0.0),
    };
    (Some(n * unit_secs), unit_secs)
}

/// "2026-11-26 11:17:55 +0000 UTC" → seconds since the epoch.
pub(crate) fn parse_created(s: &str) -> Option<f64> {
    let mut parts = s.split_whitespace();
    let date = parts.next()?;
    let clock = parts.next()?;
    let offset = parts.next().unwrap_or("+0000");
    let mut ymd = date.split('-').map(|x| x.parse::<i64>().ok());
    let (year, month, day) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let mut hms = clock.split(':').map(|x| x.parse::<f64>().ok());
    let (hours, minutes, seconds) = (
        hms.next()??,
        hms.next()??,
        hms.next().flatten().unwrap_or(0.0),
    );
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits = offset.trim_start_matches(['+', '-']);
    let offset_minutes = if digits.len() == 4 {
        digits[..2].parse::<i64>().ok()? * 60 + digits[2..].parse::<i64>().ok()?
    } else {
        0
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let march_month = (month + 9) % 12;
    let day_of_year = (153 * march_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let whole = days * 86_400 - sign * offset_minutes * 60;
    #[expect(clippy::cast_precision_loss, reason = "dates fit an f64 exactly")]
    let whole = whole as f64;
    Some(whole + hours * 3600.0 + minutes * 60.0 + seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_texts_are_read() {
        let s = parse_status("Up 2 seconds (healthy)");
        assert_eq!(
            (s.state, s.health, s.age),
            (Some(State::Running), Some(Health::Healthy), Some(2.0))
        );
        let s = parse_status("Up Less than a second (health: starting)");
        assert_eq!((s.health, s.age), (Some(Health::Starting), Some(0.0)));
        assert_eq!(
            parse_status("Up About a minute (unhealthy)").health,
            Some(Health::Unhealthy)
        );
        assert_eq!(parse_status("Up 3 hours").age, Some(10_800.0));
        assert_eq!(
            parse_status("Up 5 minutes (Paused)").state,
            Some(State::Paused)
        );
        let s = parse_status("Exited (137) 2 days ago");
        assert_eq!(
            (s.state, s.exit_code, s.age),
            (Some(State::Exited), Some(137), Some(172_800.0))
        );
        assert_eq!(
            parse_status("Exited (0) Less than a second ago").age,
            Some(0.0)
        );
        assert_eq!(
            parse_status("Restarting (1) 5 seconds ago").exit_code,
            Some(1)
        );
        assert_eq!(parse_status("Created").state, Some(State::Created));
    }

    #[test]
    fn inspect_output_marks_crash_loops() {
        let line = r#"{"project":"p","service":"db","oneoff":"False","id":"abc123","name":"p_db_1","state":"running","status":"Up 1 second","created":"2026-11-26 11:17:55 +0000 UTC"}"#;
        let mut cs = parse(line).unwrap();
        assert!(cs[0].young());
        apply_inspect("abc123ffff 4 2026-11-26T11:18:00.5Z\n", &mut cs);
        assert_eq!(cs[0].restart_count, Some(4));
        assert_eq!(cs[0].started_at, Some(1_795_691_880.5));
        assert!(cs[0].crash_looping(1_795_691_882.0));
        assert!(!cs[0].crash_looping(1_795_691_891.0), "up 10 s: up again");
        assert_eq!(
            parse_time("2026-11-26T12:18:00+01:00"),
            Some(1_795_691_880.0)
        );
        let old = r#"{"project":"p","service":"db","oneoff":"False","id":"a","name":"n","state":"running","status":"Up 3 hours","created":"x"}"#;
        assert!(!parse(old).unwrap()[0].young());
    }

    #[test]
    fn created_times_are_read() {
        assert_eq!(parse_created("1970-01-01 00:00:10 +0000 UTC"), Some(10.0));
        assert_eq!(
            parse_created("2026-11-26 11:17:55 +0000 UTC"),
            Some(1_795_691_875.0)
        );
        assert_eq!(
            parse_created("2026-11-26 12:17:55 +0100 CET"),
            Some(1_795_691_875.0)
        );
        assert_eq!(parse_created("garbage"), None);
    }

    /// Recorded outputs: compose v2 before 2.21 (one array), since 2.21 (JSON Lines),
    /// v5.5 (an `Engine` field), and the Engine API's own list.
    #[test]
    fn recorded_compose_v2_samples_parse() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ps/");
        let read = |f: &str| std::fs::read_to_string(format!("{dir}{f}")).unwrap();
        let c = parse(&read("compose-v2.20-array.json")).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            (
                c[0].project.as_str(),
                c[0].service.as_str(),
                c[0].name.as_str()
            ),
            ("shop", "db", "shop-db-1")
        );
        assert_eq!(
            (c[0].state, c[0].health),
            (State::Running, Some(Health::Healthy))
        );
        assert_eq!(c[0].ports[0].address("x"), "127.0.0.1:15432");
        assert_eq!(c[0].created, Some(1_732_612_675.0));
        assert_eq!((c[1].state, c[1].exit_code), (State::Exited, Some(0)));
        let c = parse(&read("compose-v2.21-lines.jsonl")).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].health, Some(Health::Starting));
        assert!(c[1].young());
        let web: Vec<String> = c[1].ports.iter().map(|p| p.address("10.1.2.3")).collect();
        assert_eq!(web, ["10.1.2.3:8080", "10.1.2.3:8080"]);
        assert_eq!(c[0].created, Some(1_732_616_275.0));
        let c = parse(&read("compose-v5.5-lines.jsonl")).unwrap();
        assert_eq!(
            (c[0].service.as_str(), c[0].state, c[0].exit_code),
            ("db", State::Exited, Some(137))
        );
        let c = parse(&read("engine-api.json")).unwrap();
        assert_eq!(c[0].name, "shop_web_1");
        assert_eq!(c[0].health, Some(Health::Unhealthy));
        let ports: Vec<String> = c[0].ports.iter().map(|p| p.address("h")).collect();
        assert_eq!(
            ports,
            ["127.0.0.1:18080", "h:1053/udp"],
            "an exposed port is not published"
        );
    }

    #[test]
    fn the_cli_ports_text_parses() {
        let line = r#"{"project":"p","service":"db","oneoff":"False","id":"a","name":"n","state":"running","status":"Up 3 hours","created":"x","ports":"0.0.0.0:8080->80/tcp, :::8080->80/tcp, 127.0.0.1:53->53/udp, 9000/tcp"}"#;
        let c = parse(line).unwrap();
        let all: Vec<String> = c[0].ports.iter().map(|p| p.address("::1")).collect();
        assert_eq!(all, ["[::1]:8080", "[::1]:8080", "127.0.0.1:53/udp"]);
    }

    #[test]
    fn every_output_shape_parses() {
        let line = r#"{"project":"p","service":"db","oneoff":"False","id":"abc","name":"p_db_1","state":"running","status":"Up 2 seconds (healthy)","created":"2026-11-26 11:17:55 +0000 UTC"}"#;
        let lines = format!("{line}\n{}\n", line.replace("\"db\"", "\"web\""));
        let c = parse(&lines).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            (c[0].service.as_str(), c[0].health),
            ("db", Some(Health::Healthy))
        );
        assert_eq!(parse(&format!("[{line}]")).unwrap().len(), 1);
        assert!(parse("").unwrap().is_empty());
        assert!(parse("  \n").unwrap().is_empty());
        assert!(parse("[]").unwrap().is_empty());
        assert!(parse("not json").unwrap_err().contains("cannot read"));
        // Plain `{{json .}}` with the lossy Labels string.
        let plain = r#"{"ID":"b16","Labels":"com.docker.compose.oneoff=False,com.docker.compose.project=p,com.docker.compose.service=web","Names":"p_web_1","State":"exited","Status":"Exited (3) 1 second ago"}"#;
        let c = parse(plain).unwrap();
        assert_eq!(
            (c[0].project.as_str(), c[0].exit_code, c[0].state),
            ("p", Some(3), State::Exited)
        );
        // Podman: labels as a mapping, names as a list, the exit code as a number.
        let podman = r#"[{"Id":"f00","Labels":{"com.docker.compose.project":"p","com.docker.compose.service":"db"},"Names":["p_db_1"],"State":"exited","Status":"","ExitCode":0,"Created":1700000000}]"#;
        let c = parse(podman).unwrap();
        assert_eq!(
            (c[0].exit_code, c[0].created, c[0].name.as_str()),
            (Some(0), Some(1_700_000_000.0), "p_db_1")
        );
        // Containers without compose labels are not ours.
        assert!(
            parse(r#"{"ID":"x","Labels":"a=b","State":"running","Status":"Up 1 second"}"#)
                .unwrap()
                .is_empty()
        );
    }
}
