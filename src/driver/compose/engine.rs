//! The engine side of the compose driver: one `docker ps -a` per engine, shared for up to
//! [`PS_MAX_AGE`] between concurrent callers (one call in flight at a time), and container
//! logs. Failures are worded for the user with a next step.

use std::sync::Arc;
use std::time::Instant;

use super::command::{self, engine_unreachable};
use super::ps::{self, Container};
use super::{
    Cached, Compose, ENGINE_DEADLINE, Engine, PS_MAX_AGE, PsError, Snapshot, TEMPLATE, lock,
};
use crate::process::{RunError, Spec};

impl Compose {
    pub(super) fn ps_argv(&self, engine: &Engine) -> Vec<String> {
        let mut argv = vec![self.cli.to_owned()];
        if let Some(c) = &engine.context {
            argv.extend([
                if self.cli == "podman" {
                    "--connection"
                } else {
                    "--context"
                }
                .to_owned(),
                c.clone(),
            ]);
        }
        let filter = match engine.projects.as_slice() {
            [one] => format!("label=com.docker.compose.project={one}"),
            _ => "label=com.docker.compose.project".to_owned(),
        };
        argv.extend([
            "ps".into(),
            "-a".into(),
            "--filter".into(),
            filter,
            "--format".into(),
        ]);
        argv.push(
            if self.cli == "podman" {
                "json"
            } else {
                TEMPLATE
            }
            .to_owned(),
        );
        argv
    }

    pub(super) fn fetch(&self, engine: &Engine) -> Result<Vec<Container>, PsError> {
        let argv = self.ps_argv(engine);
        let hint = || command::engine_hint(engine.context.as_deref());
        let out = Spec::new(argv).capture().deadline(ENGINE_DEADLINE).run().map_err(|e| match e {
            RunError::NotFound(p) => PsError {
                message: format!(
                    "`{p}` is not installed (not found on PATH); tta reads container status with `{p} ps`"
                ),
                hint: format!("install the {p} CLI, or put it on PATH"),
            },
            other => PsError {
                message: format!("the engine did not answer `{} ps`: {other}", self.cli),
                hint: hint(),
            },
        })?;
        if !out.success() {
            let text = command::output_text(&out);
            let line = command::error_line(&text);
            return Err(PsError {
                message: if engine_unreachable(&text) {
                    format!("the container engine is not answering: {line}")
                } else {
                    format!("`{} ps` failed: {line}", self.cli)
                },
                hint: hint(),
            });
        }
        let mut all = ps::parse(&out.stdout_text()).map_err(|m| PsError {
            message: m,
            hint: "report this with the output of the same `docker ps` command".into(),
        })?;
        all.retain(|c| !c.oneoff && engine.projects.contains(&c.project));
        Ok(all)
    }

    /// The engine's containers, from a call that began after `not_before` and at most
    /// [`PS_MAX_AGE`] ago; concurrent callers share one call.
    pub(super) fn snapshot(&self, engine: usize, not_before: Option<Instant>) -> Snapshot {
        let e = &self.engines[engine];
        let fresh = |c: &Option<Cached>| {
            c.as_ref()
                .filter(|c| {
                    c.taken.elapsed() <= PS_MAX_AGE && not_before.is_none_or(|t| c.taken >= t)
                })
                .map(|c| c.result.clone())
        };
        if let Some(s) = fresh(&lock(&e.cache)) {
            return s;
        }
        let _one_at_a_time = lock(&e.fetching);
        if let Some(s) = fresh(&lock(&e.cache)) {
            return s;
        }
        let taken = Instant::now();
        let result = Arc::new(self.fetch(e));
        *lock(&e.cache) = Some(Cached {
            taken,
            result: result.clone(),
        });
        result
    }
}
