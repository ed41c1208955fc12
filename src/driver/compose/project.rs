//! One repository's compose project: its folder, files, project name and context (the
//! [`Target`] every compose call carries), and the compose call the driver makes in it:
//! `up` (stops go to the engine by container id: see [`super::engine`]). Service names
//! reach compose only after `--`, never where an option could be read (a service may be
//! named `-V`).
//!
//! `up` calls run one at a time per repository (two at once race to create the project's
//! network), and one at a time per engine for repositories whose compose files use an
//! external network: concurrent `up` on a shared network has deadlocked for real users.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::command::{ComposeCommand, Target};
use super::engine::Engine;
use super::lock;
use crate::cancel::{Cancel, Level};
use crate::config::model::Repository;
use crate::error::Error;
use crate::process::{Finished, RunError, Spec};

/// How long a `stop` may take beyond its grace period.
pub(crate) const STOP_SLACK: Duration = Duration::from_secs(120);

/// A configured repository as a compose project.
pub(crate) struct Project {
    /// Its name in the configuration.
    pub name: String,
    /// Its configuration.
    pub config: Repository,
    /// What every compose call in it carries, or why there is none (no compose file).
    pub target: Result<Target, String>,
    /// The engine that serves it (an index into the driver's engines).
    pub engine: usize,
    /// `DOCKER_HOST` from its `.env`, when the process has none.
    pub host: Option<String>,
    /// Held by this repository's `up` calls.
    up: Mutex<()>,
    /// Whether it uses an external network, read from its files at the first `up`.
    shared: OnceLock<bool>,
}

impl Project {
    /// The project of a configured repository.
    pub(crate) fn new(
        name: &str,
        config: &Repository,
        env: &crate::compose_file::ProjectEnv,
        recorded: Option<&str>,
        engine: usize,
    ) -> Self {
        Self {
            name: name.to_owned(),
            config: config.clone(),
            target: Target::new(name, config, env, recorded),
            engine,
            host: env.docker_host.clone(),
            up: Mutex::new(()),
            shared: OnceLock::new(),
        }
    }

    /// The error of a repository whose folder is not there.
    pub(crate) fn missing(&self) -> Error {
        Error::RepositoryMissing {
            name: self.name.clone(),
            path: self.config.path.clone(),
        }
    }

    /// Its folder exists.
    pub(crate) fn present(&self) -> bool {
        self.config.path.is_dir()
    }

    fn spec(&self, cmd: &ComposeCommand, target: &Target, args: &[String]) -> Spec {
        let (argv, mut env) = cmd.invocation(target, args);
        if let Some(h) = &self.host {
            env.push(("DOCKER_HOST".to_owned(), h.clone()));
        }
        Spec::new(argv).cwd(&target.path).envs(env).capture()
    }

    /// `restart -t GRACE -- SERVICES`: compose stops and starts the services' containers
    /// (the same containers: their start time changes), ended after `deadline` or by a
    /// forced `cancel`.
    pub(crate) fn restart(
        &self,
        cmd: &ComposeCommand,
        target: &Target,
        services: &[String],
        grace: Duration,
        deadline: Duration,
        cancel: &Cancel,
    ) -> Result<Finished, RunError> {
        let secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
        let mut args: Vec<String> =
            vec!["restart".into(), "-t".into(), secs.to_string(), "--".into()];
        args.extend(services.iter().cloned());
        let spec = self
            .spec(cmd, target, &args)
            .deadline(deadline)
            .cancel(cancel, Level::Forced);
        let _one_per_repository = lock(&self.up);
        spec.run()
    }

    /// `up -d --no-deps [--build] SERVICES` (after `pull SERVICES` when asked), ended after
    /// `deadline` or by a forced `cancel`. The engine's lock is held for projects on an
    /// external network, and for every `up` on an engine that takes one call at a time
    /// (`ssh://`: docker/compose#8856).
    #[expect(
        clippy::too_many_arguments,
        reason = "one compose call and all it depends on"
    )]
    pub(crate) fn up(
        &self,
        cmd: &ComposeCommand,
        target: &Target,
        services: &[String],
        options: crate::driver::UpOptions,
        deadline: Duration,
        cancel: &Cancel,
        engine: &Engine,
    ) -> Result<Finished, RunError> {
        let started = std::time::Instant::now();
        if options.pull {
            // `pull` first, not `up --pull always`: compose v1 has no `up --pull`.
            let mut args = vec!["pull".to_owned(), "--".to_owned()];
            args.extend(services.iter().cloned());
            let pulled = self
                .spec(cmd, target, &args)
                .deadline(deadline)
                .cancel(cancel, Level::Forced)
                .run()?;
            if !pulled.success() {
                return Ok(pulled);
            }
        }
        let mut args: Vec<String> = ["up", "-d", "--no-deps"].map(str::to_owned).to_vec();
        if options.build {
            args.push("--build".to_owned());
        }
        args.push("--".to_owned());
        args.extend(services.iter().cloned());
        let spec = self
            .spec(cmd, target, &args)
            .deadline(if options.pull {
                deadline.saturating_sub(started.elapsed())
            } else {
                deadline
            })
            .cancel(cancel, Level::Forced);
        let _one_per_repository = lock(&self.up);
        let shared = *self
            .shared
            .get_or_init(|| crate::compose_file::uses_external_network(&self.config));
        let _one_per_shared_network = (shared || engine.serial()).then(|| lock(&engine.shared_up));
        spec.run()
    }
}
