//! A JSON Schema (draft 2020-12) of the config file, for editors (`tta config schema`).
//!
//! It describes the file as written (durations as strings, `depends_on` as a list or a
//! mapping), which is why it is written out here rather than derived from the Rust types;
//! a test checks that it names exactly the keys the parser accepts.

use serde_json::{Value, json};

const DURATION: &str = "^([0-9]+(ms|s|m|h))+$";
const SIZE: &str = "^[0-9]+(\\.[0-9]+)? ?(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)$";

fn duration(description: &str) -> Value {
    json!({"type": "string", "pattern": DURATION, "description": description, "examples": ["500ms", "30s", "2m"]})
}

fn strings(description: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": description})
}

/// The schema.
#[expect(clippy::too_many_lines, reason = "one literal document")]
pub(crate) fn json_schema() -> Value {
    let name = json!({"type": "string", "pattern": "^[A-Za-z0-9._][A-Za-z0-9._-]*$"});
    let condition = json!({
        "enum": ["started", "healthy", "completed_successfully", "service_started", "service_healthy", "service_completed_successfully"]
    });
    let logs = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "how the log of each process and task is kept",
        "properties": {
            "max_size": {"type": "string", "pattern": SIZE, "description": "size at which a log is rotated (default 10MiB; at least 1KiB)", "examples": ["10MiB", "512KiB", "1GB"]},
            "keep": {"type": "integer", "minimum": 0, "maximum": 100, "description": "rotated files kept (default 1)"}
        }
    });
    let depends_on = json!({
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {
                "oneOf": [
                    {"type": "null"},
                    condition,
                    {"type": "object", "additionalProperties": false, "properties": {
                        "condition": condition, "required": {"type": "boolean"},
                        "restart": {"type": "boolean", "description": "under tta up: restart this component when the dependency restarts, once it is ready again"}
                    }}
                ]
            }}
        ]
    });
    let env_file = json!({
        "description": "dotenv files read into env (relative to this file; env wins)",
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"oneOf": [
                {"type": "string"},
                {"type": "object", "additionalProperties": false, "required": ["path"], "properties": {
                    "path": {"type": "string"}, "required": {"type": "boolean"}
                }}
            ]}}
        ]
    });
    let probe = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "tcp": {"type": "string", "description": "host:port"},
            "http": {"type": "string", "pattern": "^http://"},
            "exec": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "interval": duration("time between attempts (default 250ms)"),
            "timeout": duration("time one attempt may take (default 2s)"),
            "retries": {"type": "integer", "minimum": 0},
            "start_period": duration("failures in this period do not count")
        }
    });
    let mut liveness = probe.clone();
    liveness["description"] = json!(
        "under tta up: a probe checked while the component runs; failing it failure_threshold times in a row restarts it"
    );
    let lp = liveness["properties"]
        .as_object_mut()
        .expect("probe properties");
    lp.remove("retries");
    lp.insert(
        "interval".into(),
        duration("time between checks (default 5s)"),
    );
    lp.insert("failure_threshold".into(), json!({"type": "integer", "minimum": 1, "description": "failures in a row before a restart (default 3)"}));
    let supervision = json!({
        "restart": {"enum": ["no", "on-failure", "always", false], "description": "under tta up: when to restart it (default no for tasks, on-failure for processes and compose services)"},
        "max_restarts": {"type": "integer", "minimum": 0, "description": "under tta up: restarts in a row before it is failed for good (default: no limit)"},
        "backoff": duration("under tta up: wait before the first restart, doubling with each restart in a row (default 1s)"),
        "max_backoff": duration("under tta up: longest wait before a restart (default 30s)"),
        "reset_after": duration("under tta up: ready this long, the next crash starts again from backoff (default 10s)"),
        "liveness": liveness,
        "watch": {"oneOf": [{"type": "string"}, strings("under tta up: globs, relative to cwd, whose change restarts the process")]}
    });
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tta configuration",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "defaults": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "start_timeout": duration("time from a component's start to ready (default 60s)"),
                    "stop_timeout": duration("grace after the stop signal before the kill (default 10s)"),
                    "jobs": {"type": "integer", "minimum": 1, "maximum": 1024, "description": "operations at once (default 8)"},
                    "retry": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                            "attempts": {"type": "integer", "minimum": 1, "maximum": 100, "description": "attempts of a transiently failing start (default 3)"},
                            "backoff": duration("wait before the second attempt, doubling (default 1s)"),
                            "max_backoff": duration("longest wait between attempts (default 10s)")
                        }
                    }
                }
            },
            "state_dir": {"type": "string", "description": "where records and logs live (default .tta)"},
            "logs": logs,
            "compose": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "command": {
                        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
                        "description": "the compose command (default: detected)"
                    }
                }
            },
            "repositories": {
                "type": "object",
                "propertyNames": name,
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["path"],
                    "properties": {
                        "path": {"type": "string", "description": "the repository's folder"},
                        "compose_files": {"oneOf": [{"type": "string"}, strings("compose files, relative to path")]},
                        "project_name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
                        "profiles": strings("compose profiles"),
                        "discover": {"type": "boolean", "description": "compose services become components (default true)"},
                        "context": {"type": "string", "description": "a docker context (remote engine)"}
                    }
                }
            },
            "components": {
                "type": "object",
                "propertyNames": name,
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "kind": {"enum": ["compose", "process", "task", "external"]},
                        "repository": {"type": "string"},
                        "service": {"type": "string"},
                        "command": {"type": "array", "items": {"type": ["string", "number", "boolean"]}, "minItems": 1, "description": "argv, run without a shell"},
                        "shell": {"type": "string", "description": "a line run with sh -c"},
                        "cwd": {"type": "string"},
                        "env": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                        "env_file": env_file,
                        "depends_on": depends_on,
                        "probe": probe,
                        "start_timeout": duration("overrides defaults.start_timeout"),
                        "stop_timeout": duration("overrides defaults.stop_timeout"),
                        "enabled": {"type": "boolean"},
                        "description": {"type": "string"}
                    }
                }
            }
        }
    });
    let component = schema["properties"]["components"]["additionalProperties"]["properties"]
        .as_object_mut()
        .expect("component properties");
    for (k, v) in supervision.as_object().expect("an object") {
        component.insert(k.clone(), v.clone());
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::json_schema;
    use crate::config::parse::{
        COMPONENT_KEYS, COMPOSE_KEYS, DEFAULTS_KEYS, LIVENESS_KEYS, LOGS_KEYS, PROBE_KEYS,
        REPOSITORY_KEYS, RETRY_KEYS, ROOT_KEYS,
    };

    fn keys(v: &serde_json::Value) -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    }

    fn sorted(k: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = k.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn names_exactly_the_keys_the_parser_accepts() {
        let s = json_schema();
        let p = &s["properties"];
        assert_eq!(keys(&s), sorted(ROOT_KEYS));
        assert_eq!(keys(&p["defaults"]), sorted(DEFAULTS_KEYS));
        assert_eq!(
            keys(&p["defaults"]["properties"]["retry"]),
            sorted(RETRY_KEYS)
        );
        assert_eq!(keys(&p["compose"]), sorted(COMPOSE_KEYS));
        assert_eq!(keys(&p["logs"]), sorted(LOGS_KEYS));
        assert_eq!(
            keys(&p["repositories"]["additionalProperties"]),
            sorted(REPOSITORY_KEYS)
        );
        let c = &p["components"]["additionalProperties"];
        assert_eq!(keys(c), sorted(COMPONENT_KEYS));
        assert_eq!(keys(&c["properties"]["probe"]), sorted(PROBE_KEYS));
        assert_eq!(keys(&c["properties"]["liveness"]), sorted(LIVENESS_KEYS));
    }
}
