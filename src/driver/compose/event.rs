//! One container event of a compose project, and the forms it comes in: a line of
//! `docker events --format '{{json .}}'` (the CLI), or the Engine API's message (made into
//! an [`Event`] by `api`). What an event means to a watcher ([`Kind`]) and the engine's
//! `since` form of a time.

use serde_json::Value;

/// The CLI's form of the stream (before `--since`): what the API call asks for.
pub(super) const CLI_ARGS: [&str; 7] = [
    "events",
    "--filter",
    "type=container",
    "--filter",
    "label=com.docker.compose.project",
    "--format",
    "{{json .}}",
];

/// One container event of a compose project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The container's id.
    pub id: String,
    /// Its compose project, from its labels.
    pub project: String,
    /// Its compose service, from its labels.
    pub service: String,
    /// What happened: `start`, `die`, `health_status: unhealthy`, ...
    pub action: String,
    /// The exit code a `die` came with.
    pub exit_code: Option<i32>,
    /// When, by the engine's clock, in nanoseconds since the epoch.
    pub time_nano: i64,
}

/// What an event means to a watcher of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A container started (or started again).
    Start,
    /// A container stopped.
    Die,
    /// A container's healthcheck failed.
    Unhealthy,
    /// Anything else (`create`, `health_status: healthy`, `exec_start`, ...).
    Other,
}

impl Event {
    /// What it means to a watcher.
    pub(super) fn kind(&self) -> Kind {
        match self.action.as_str() {
            "start" => Kind::Start,
            "die" => Kind::Die,
            a if a.starts_with("health_status") && a.ends_with("unhealthy") => Kind::Unhealthy,
            _ => Kind::Other,
        }
    }

    /// When, in seconds since the epoch.
    #[expect(clippy::cast_precision_loss, reason = "nanoseconds since the epoch")]
    pub(super) fn at(&self) -> f64 {
        self.time_nano as f64 / 1e9
    }

    /// The event in one line of `docker events --format '{{json .}}'`.
    pub(super) fn from_json(line: &str) -> Option<Event> {
        let v: Value = serde_json::from_str(line).ok()?;
        let attrs = &v["Actor"]["Attributes"];
        let label = |k: &str| attrs[k].as_str().map(str::to_owned);
        #[expect(clippy::cast_possible_truncation, reason = "seconds since the epoch")]
        let time_nano = v["timeNano"]
            .as_i64()
            .or_else(|| v["time"].as_f64().map(|t| (t * 1e9) as i64))
            .unwrap_or_else(|| nanos(crate::state::now_epoch()));
        Some(Event {
            id: v["id"]
                .as_str()
                .or_else(|| v["Actor"]["ID"].as_str())?
                .to_owned(),
            project: label("com.docker.compose.project")?,
            service: label("com.docker.compose.service").unwrap_or_default(),
            action: v["Action"]
                .as_str()
                .or_else(|| v["status"].as_str())?
                .to_owned(),
            exit_code: label("exitCode").and_then(|c| c.parse().ok()),
            time_nano,
        })
    }
}

/// Seconds since the epoch in nanoseconds.
#[expect(clippy::cast_possible_truncation, reason = "seconds since the epoch")]
pub(super) fn nanos(secs: f64) -> i64 {
    (secs * 1e9) as i64
}

/// A time for the engine's `since` (API and CLI alike): `seconds.nanoseconds`, nine
/// digits (the engine reads the part after the point as nanoseconds, whatever its length).
pub(super) fn since_arg(nano: i64) -> String {
    format!(
        "{}.{:09}",
        nano.div_euclid(1_000_000_000),
        nano.rem_euclid(1_000_000_000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_read_from_what_the_cli_prints() {
        let die = r#"{"status":"die","id":"60c36b9ebdf7aad","Type":"container","Action":"die","Actor":{"ID":"60c36b9ebdf7aad","Attributes":{"com.docker.compose.project":"p","com.docker.compose.service":"s","exitCode":"3"}},"time":1796159799,"timeNano":1796159799374590192}"#;
        let e = Event::from_json(die).unwrap();
        assert_eq!(
            e,
            Event {
                id: "60c36b9ebdf7aad".into(),
                project: "p".into(),
                service: "s".into(),
                action: "die".into(),
                exit_code: Some(3),
                time_nano: 1_796_159_799_374_590_192,
            }
        );
        assert_eq!(e.kind(), Kind::Die);
        assert!((e.at() - 1_796_159_799.374_590_2).abs() < 1e-3);
        let sick = die.replace(
            r#""Action":"die""#,
            r#""Action":"health_status: unhealthy""#,
        );
        assert_eq!(Event::from_json(&sick).unwrap().kind(), Kind::Unhealthy);
        let well = die.replace(r#""Action":"die""#, r#""Action":"health_status: healthy""#);
        assert_eq!(Event::from_json(&well).unwrap().kind(), Kind::Other);
        let start = die
            .replace(r#""Action":"die""#, r#""Action":"start""#)
            .replace(r#","timeNano":1796159799374590192"#, "");
        let e = Event::from_json(&start).unwrap();
        assert_eq!(
            (e.kind(), e.time_nano),
            (Kind::Start, 1_796_159_799_000_000_000)
        );
        assert_eq!(
            Event::from_json(r#"{"Action":"die","Actor":{"Attributes":{}}}"#),
            None
        );
        assert_eq!(Event::from_json("not json"), None);
        assert_eq!(since_arg(1_796_159_799_000_000_042), "1796159799.000000042");
    }
}
