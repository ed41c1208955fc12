//! Which compose command to run, and the exact command line for a repository.
//!
//! The command is detected once per run: `docker compose version` (the v2 plugin), else
//! `docker-compose version` (v1, or a standalone v2). `TTA_COMPOSE` (e.g. `podman compose`)
//! and then the config's `compose.command` override detection. Every invocation for a
//! repository carries `-p <project>`, `-f` for each compose file and `--profile` for each
//! profile, all before the subcommand, and runs in the repository's folder. A repository's
//! docker `context` becomes `docker --context X compose ...` (plugin), `podman --connection
//! X compose ...`, or `DOCKER_CONTEXT=X` in the environment of a standalone v2. Compose v1
//! cannot read contexts stored by a current docker CLI ("Context not found"), so it gets
//! the context's resolved endpoint instead (`DOCKER_HOST` and the TLS variables), or
//! `--context X` when the context cannot be resolved (and compose says why). `DOCKER_HOST`
//! is inherited untouched.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::config::model::Repository;
use crate::process::{self, Finished, RunError, Spec};

/// How long `version` may take (compose v1 needs ~0.8 s to start).
const VERSION_DEADLINE: Duration = Duration::from_secs(30);

/// Which compose implementation a command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `docker compose` (the v2 plugin).
    Plugin,
    /// `docker-compose` 1.x (Python).
    V1,
    /// A standalone `docker-compose` 2.x.
    V2,
    /// `docker-compose` of a version not yet asked (an override).
    Standalone,
    /// `podman compose` or `podman-compose`.
    Podman,
    /// Anything else a user configured.
    Other,
}

/// Where the command came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The `TTA_COMPOSE` variable.
    Env,
    /// The config's `compose.command`.
    Config,
}

/// The compose command of this run.
#[derive(Debug)]
pub(crate) struct ComposeCommand {
    /// Its argv (`["docker", "compose"]`).
    pub argv: Vec<String>,
    /// What it is.
    pub flavor: Flavor,
    /// For [`Flavor::Standalone`]: whether `version` says 1.x, asked when first needed.
    v1: OnceLock<bool>,
}

/// Why no compose command is available: an environment error (exit 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unavailable {
    /// What is missing.
    pub message: String,
    /// What to do.
    pub hint: String,
}

impl Unavailable {
    /// As the crate's error (exit 3).
    pub(crate) fn to_error(&self) -> crate::error::Error {
        crate::error::Error::environment(self.message.clone(), self.hint.clone())
    }
}

const INSTALL_HINT: &str = "install Docker with the compose plugin (or docker-compose), or set TTA_COMPOSE / `compose.command` (e.g. `TTA_COMPOSE=\"podman compose\"`)";

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

impl ComposeCommand {
    /// A command given by the user, classified by its program name.
    pub(crate) fn given(argv: Vec<String>, source: Source) -> Result<Self, Unavailable> {
        let what = match source {
            Source::Env => "TTA_COMPOSE",
            Source::Config => "`compose.command`",
        };
        let Some(program) = argv.first() else {
            return Err(Unavailable {
                message: format!("the compose command from {what} is empty"),
                hint: INSTALL_HINT.into(),
            });
        };
        if process::which(program).is_none() {
            return Err(Unavailable {
                message: format!(
                    "compose command `{}` (from {what}) cannot run: `{program}` is not on PATH",
                    argv.join(" ")
                ),
                hint: format!("install it, or change {what}"),
            });
        }
        let flavor = match (basename(program), argv.get(1).map(String::as_str)) {
            ("docker", Some("compose")) => Flavor::Plugin,
            ("docker-compose", _) => Flavor::Standalone,
            ("podman" | "podman-compose", _) => Flavor::Podman,
            _ => Flavor::Other,
        };
        Ok(Self {
            argv,
            flavor,
            v1: OnceLock::new(),
        })
    }

    /// Detects the command: `TTA_COMPOSE`, then `configured`, then `docker compose version`,
    /// then `docker-compose version`.
    pub(crate) fn detect(
        env: Option<&str>,
        configured: Option<&[String]>,
    ) -> Result<Self, Unavailable> {
        if let Some(s) = env.filter(|s| !s.trim().is_empty()) {
            return Self::given(
                s.split_whitespace().map(str::to_owned).collect(),
                Source::Env,
            );
        }
        if let Some(c) = configured {
            return Self::given(c.to_vec(), Source::Config);
        }
        let detected = |argv: &[&str], flavor| Self {
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            flavor,
            v1: OnceLock::new(),
        };
        let docker = process::which("docker").is_some();
        let mut plugin_error = None;
        if docker {
            match version(&["docker", "compose", "version"]) {
                Ok(c) if c.success() => {
                    return Ok(detected(&["docker", "compose"], Flavor::Plugin));
                }
                Ok(c) => plugin_error = Some(first_line(&output_text(&c))),
                Err(e) => plugin_error = Some(e.to_string()),
            }
        }
        if process::which("docker-compose").is_some() {
            return match version(&["docker-compose", "version"]) {
                Ok(c) if c.success() => Ok(detected(
                    &["docker-compose"],
                    if is_v1_version(&c.stdout_text()) {
                        Flavor::V1
                    } else {
                        Flavor::V2
                    },
                )),
                Ok(c) => Err(Unavailable {
                    message: format!(
                        "docker-compose is installed but `docker-compose version` failed: {}",
                        first_line(&output_text(&c))
                    ),
                    hint: "repair the docker-compose installation, or set TTA_COMPOSE".into(),
                }),
                Err(e) => Err(Unavailable {
                    message: format!("`docker-compose version` failed: {e}"),
                    hint: "repair the docker-compose installation, or set TTA_COMPOSE".into(),
                }),
            };
        }
        Err(Unavailable {
            message: if docker {
                format!(
                    "Docker Compose is not installed: docker has no compose plugin (`docker compose version`: {}) and `docker-compose` is not on PATH",
                    plugin_error.unwrap_or_default()
                )
            } else {
                "Docker Compose is not installed: neither `docker` nor `docker-compose` is on PATH"
                    .into()
            },
            hint: INSTALL_HINT.into(),
        })
    }

    /// Whether this is compose v1 (asks `version` once for a configured `docker-compose`).
    pub(crate) fn is_v1(&self) -> bool {
        match self.flavor {
            Flavor::V1 => true,
            Flavor::Standalone => *self.v1.get_or_init(|| {
                let mut a = self.argv.clone();
                a.push("version".into());
                version(&a).is_ok_and(|c| c.success() && is_v1_version(&c.stdout_text()))
            }),
            _ => false,
        }
    }

    /// The command line and extra environment that run `args` for `target`.
    pub(crate) fn invocation(
        &self,
        target: &Target,
        args: &[String],
    ) -> (Vec<String>, Vec<(String, String)>) {
        let mut argv = self.argv.clone();
        let mut env = Vec::new();
        if let Some(ctx) = &target.context {
            match self.flavor {
                Flavor::Plugin => {
                    argv.insert(1, ctx.clone());
                    argv.insert(1, "--context".to_owned());
                }
                Flavor::Podman if basename(&argv[0]) == "podman" => {
                    argv.insert(1, ctx.clone());
                    argv.insert(1, "--connection".to_owned());
                }
                _ if self.is_v1() => match &target.endpoint_env {
                    Some(vars) => env.extend(vars.iter().cloned()),
                    None => argv.extend(["--context".to_owned(), ctx.clone()]),
                },
                _ => env.push(("DOCKER_CONTEXT".to_owned(), ctx.clone())),
            }
        }
        argv.extend(["-p".to_owned(), target.project.clone()]);
        for f in &target.files {
            argv.extend(["-f".to_owned(), f.clone()]);
        }
        for p in &target.profiles {
            argv.extend(["--profile".to_owned(), p.clone()]);
        }
        argv.extend(args.iter().cloned());
        (argv, env)
    }
}

/// Runs a `version` command, bounded.
fn version(argv: &[impl AsRef<str>]) -> Result<Finished, RunError> {
    Spec::new(argv.iter().map(|a| a.as_ref().to_owned()))
        .capture()
        .deadline(VERSION_DEADLINE)
        .run()
}

/// Both streams of a finished docker or compose call, stderr first (where they put their
/// errors).
pub(crate) fn output_text(f: &Finished) -> String {
    format!("{}\n{}", f.stderr_text(), f.stdout_text())
}

fn is_v1_version(stdout: &str) -> bool {
    // v1: "docker-compose version 1.29.2, build unknown"; v2: "Docker Compose version v2.29.1".
    let v = stdout.to_ascii_lowercase();
    v.split("version")
        .nth(1)
        .map(|r| r.trim_start().trim_start_matches('v'))
        .is_some_and(|r| r.starts_with("1."))
}

/// The first non-empty line of a text, for one-line messages.
pub(crate) fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no output")
        .to_owned()
}

/// The last non-empty line that looks like an error, for one-line messages. Compose v1
/// ends a failed `up` with a generic line ("Encountered errors while bringing up the
/// project."); the reason is in its `ERROR: for SERVICE  ...` line before it.
pub(crate) fn error_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let generic = |l: &str| {
        let l = l.to_ascii_lowercase();
        l.contains("encountered errors while bringing up the project")
    };
    let errorish = |l: &&&str| {
        let l = l.to_ascii_lowercase();
        (l.contains("error") || l.contains("cannot") || l.contains("failed")) && !generic(&l)
    };
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("ERROR: for ") && errorish(l))
        .or_else(|| lines.iter().rev().find(errorish))
        .or(lines.last())
        .map_or_else(|| "no output".to_owned(), |l| (*l).to_owned())
}

/// An engine hiccup worth retrying (as opposed to a mistake that will fail again). A call
/// that timed out waiting for the engine is not one: retrying a hang multiplies it.
pub(crate) fn is_transient(text: &str) -> bool {
    const HANGS: [&str; 5] = [
        "i/o timeout",
        "tls handshake timeout",
        "context deadline exceeded",
        "read timed out",
        "timed out",
    ];
    const PATTERNS: [&str; 16] = [
        "cannot connect to the docker daemon",
        "couldn't connect to docker daemon",
        "is the docker daemon running",
        "error during connect",
        "connection refused",
        "connection reset",
        "connection aborted",
        "i/o timeout",
        "tls handshake timeout",
        "502 bad gateway",
        "503 service unavailable",
        "bad gateway",
        "service unavailable",
        "context deadline exceeded",
        "read timed out",
        "unexpected eof",
    ];
    let t = text.to_ascii_lowercase();
    PATTERNS.iter().any(|p| t.contains(p)) && !HANGS.iter().any(|p| t.contains(p))
}

/// The engine does not answer at all (as opposed to a hiccup mid-request).
pub(crate) fn engine_unreachable(text: &str) -> bool {
    const PATTERNS: [&str; 5] = [
        "cannot connect to the docker daemon",
        "couldn't connect to docker daemon",
        "is the docker daemon running",
        "error during connect",
        "connection aborted",
    ];
    let t = text.to_ascii_lowercase();
    PATTERNS.iter().any(|p| t.contains(p))
}

/// What to tell a user whose engine does not answer.
pub(crate) fn engine_hint(context: Option<&str>) -> String {
    match context {
        Some(c) => format!(
            "check that the engine of docker context `{c}` is up (`docker --context {c} info`)"
        ),
        None => "start the Docker engine (e.g. `sudo systemctl start docker`), or point DOCKER_HOST or the repository's `context` at one that runs; `docker info` checks it".into(),
    }
}

/// Everything needed to run compose for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The repository's name in the configuration.
    pub name: String,
    /// Its folder (the working directory).
    pub path: PathBuf,
    /// The compose project name (`-p`).
    pub project: String,
    /// The compose files (`-f`), as configured or found.
    pub files: Vec<String>,
    /// Profiles (`--profile`).
    pub profiles: Vec<String>,
    /// The docker context, if any.
    pub context: Option<String>,
    /// The context's endpoint as environment variables (`DOCKER_HOST`, TLS), for a
    /// compose that cannot read the context store (v1); `None` when it cannot be resolved.
    pub endpoint_env: Option<Vec<(String, String)>>,
}

impl Target {
    /// The target of a configured repository. `Err` when it has no compose file. The
    /// project name: `project_name`, else the `.env`'s `COMPOSE_PROJECT_NAME`, else the
    /// name `recorded` when the repository was last started (its folder may have moved),
    /// else [`default_project_name`].
    pub(crate) fn new(
        name: &str,
        repo: &Repository,
        env: &crate::compose_file::ProjectEnv,
        recorded: Option<&str>,
    ) -> Result<Self, String> {
        let files = crate::compose_file::compose_files(repo)?;
        let from_env = env
            .project_name
            .clone()
            .filter(|p| crate::config::parse::valid_project_name(p));
        Ok(Self {
            name: name.to_owned(),
            path: repo.path.clone(),
            project: repo
                .project_name
                .clone()
                .or(from_env)
                .or_else(|| recorded.map(str::to_owned))
                .unwrap_or_else(|| default_project_name(name, &repo.path)),
            files: files.iter().map(|f| f.display().to_string()).collect(),
            profiles: repo.profiles.clone(),
            context: repo.context.clone(),
            endpoint_env: None,
        })
    }
}

/// The default project name of a repository: its name in Compose's alphabet (lowercase
/// letters, digits, `-` and `_`), then `-` and six hex digits of a hash of the folder's
/// absolute path. Two checkouts of the same repository (or two repositories whose folders
/// share a name) therefore never share containers, while the name stays the same from run
/// to run: `tta.dev` → `tta-dev-3f9a0c`.
pub(crate) fn default_project_name(name: &str, path: &Path) -> String {
    let mut base: String = name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_' | '-') => c,
            _ => '-',
        })
        .collect();
    base = base.trim_start_matches(['-', '_']).to_owned();
    if base.is_empty() {
        base.push_str("tta");
    }
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| lexical_absolute(path));
    let hash = crate::hash::fnv1a(abs.as_os_str().as_encoded_bytes());
    format!("{base}-{:06x}", hash & 0x00ff_ffff)
}

fn lexical_absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A compose run that could not start, as a message.
pub(crate) fn run_error(argv: &[String], e: &RunError) -> String {
    format!("`{}` {e}", argv.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(context: Option<&str>) -> Target {
        Target {
            name: "tta.dev".into(),
            path: "/r".into(),
            project: "p".into(),
            files: vec!["compose.yaml".into(), "more.yaml".into()],
            profiles: vec!["gpu".into()],
            context: context.map(str::to_owned),
            endpoint_env: context
                .map(|_| vec![("DOCKER_HOST".to_owned(), "tcp://127.0.0.2:2375".to_owned())]),
        }
    }

    fn cmd(argv: &[&str], flavor: Flavor) -> ComposeCommand {
        ComposeCommand {
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            flavor,
            v1: OnceLock::new(),
        }
    }

    #[test]
    fn invocations_put_global_options_first() {
        let args = vec!["up".to_owned(), "-d".to_owned()];
        let (a, env) =
            cmd(&["docker", "compose"], Flavor::Plugin).invocation(&target(Some("remote")), &args);
        assert_eq!(
            a.join(" "),
            "docker --context remote compose -p p -f compose.yaml -f more.yaml --profile gpu up -d"
        );
        assert!(env.is_empty());
        // Compose v1 cannot read the docker CLI's contexts: it gets the endpoint.
        let (a, env) =
            cmd(&["docker-compose"], Flavor::V1).invocation(&target(Some("remote")), &args);
        assert_eq!(
            a.join(" "),
            "docker-compose -p p -f compose.yaml -f more.yaml --profile gpu up -d"
        );
        assert_eq!(
            env,
            [("DOCKER_HOST".to_owned(), "tcp://127.0.0.2:2375".to_owned())]
        );
        let mut unresolved = target(Some("gone"));
        unresolved.endpoint_env = None;
        let (a, _) = cmd(&["docker-compose"], Flavor::V1).invocation(&unresolved, &args);
        assert_eq!(a[..3].join(" "), "docker-compose --context gone");
        let (a, env) =
            cmd(&["docker-compose"], Flavor::V2).invocation(&target(Some("remote")), &args);
        assert_eq!(a[..3].join(" "), "docker-compose -p p");
        assert_eq!(env, [("DOCKER_CONTEXT".to_owned(), "remote".to_owned())]);
        let (a, _) =
            cmd(&["podman", "compose"], Flavor::Podman).invocation(&target(Some("m")), &args);
        assert_eq!(a[..5].join(" "), "podman --connection m compose -p");
    }

    #[test]
    fn versions_and_errors_are_classified() {
        assert!(is_v1_version(
            "docker-compose version 1.29.2, build unknown\n"
        ));
        assert!(!is_v1_version("Docker Compose version v2.29.1\n"));
        assert!(!is_v1_version("Docker Compose version 2.40.3\n"));
        assert!(is_transient(
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
        ));
        assert!(is_transient(
            "Error response from daemon: 503 Service Unavailable"
        ));
        assert!(!is_transient("ERROR: No such service: nope"));
        assert!(engine_unreachable(
            "Couldn't connect to Docker daemon at http+docker://localhost - is it running?"
        ));
        assert_eq!(
            error_line("Creating x ... \nERROR: for web  boom\n\n"),
            "ERROR: for web  boom"
        );
        assert_eq!(
            error_line(
                "Creating p_web_1 ... error\n\nERROR: for p_web_1  Cannot start service web: port is already allocated\n\nERROR: for web  Cannot start service web: port is already allocated\nERROR: Encountered errors while bringing up the project.\n"
            ),
            "ERROR: for web  Cannot start service web: port is already allocated"
        );
    }

    #[test]
    fn default_project_names_are_sanitised_and_per_checkout() {
        let a = default_project_name("tta.dev", Path::new("/nonexistent/one/dev"));
        let b = default_project_name("tta.dev", Path::new("/nonexistent/two/dev"));
        assert!(
            a.starts_with("tta-dev-") && a.len() == "tta-dev-".len() + 6,
            "{a}"
        );
        assert_ne!(a, b);
        assert_eq!(
            a,
            default_project_name("tta.dev", Path::new("/nonexistent/one/x/../dev"))
        );
        assert!(crate::config::parse::valid_project_name(&a));
        assert!(default_project_name("_Weird Name", Path::new("/x")).starts_with("weird-name-"));
    }
}
