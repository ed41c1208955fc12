//! The engine CLI that goes with the compose command: `docker`, or `podman` for Podman's
//! compose. Each spells its options its own way; this is the one place that knows how.

/// The engine's command-line tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum EngineCli {
    /// `docker`.
    #[default]
    Docker,
    /// `podman`.
    Podman,
}

impl EngineCli {
    /// The CLI for a compose command line (`podman compose`, `podman-compose`: Podman;
    /// anything else: Docker).
    pub(crate) fn for_compose(command: &str) -> Self {
        let program = command.split_whitespace().next().unwrap_or_default();
        let base = program.rsplit('/').next().unwrap_or(program);
        if base.starts_with("podman") {
            EngineCli::Podman
        } else {
            EngineCli::Docker
        }
    }

    /// The program to run.
    pub(crate) fn program(self) -> &'static str {
        match self {
            EngineCli::Docker => "docker",
            EngineCli::Podman => "podman",
        }
    }

    /// The option that names a remote engine: a docker context, or a Podman connection.
    pub(crate) fn context_flag(self) -> &'static str {
        match self {
            EngineCli::Docker => "--context",
            EngineCli::Podman => "--connection",
        }
    }

    /// `program [--context X] args...`.
    pub(crate) fn argv(self, context: Option<&str>, args: &[&str]) -> Vec<String> {
        let mut argv = vec![self.program().to_owned()];
        if let Some(c) = context {
            argv.extend([self.context_flag().to_owned(), c.to_owned()]);
        }
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        argv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cli_names_a_remote_engine_its_own_way() {
        assert_eq!(EngineCli::for_compose("podman compose"), EngineCli::Podman);
        assert_eq!(
            EngineCli::for_compose("/usr/bin/podman-compose"),
            EngineCli::Podman
        );
        assert_eq!(EngineCli::for_compose("docker compose"), EngineCli::Docker);
        assert_eq!(
            EngineCli::Podman.argv(Some("m"), &["logs", "x"]).join(" "),
            "podman --connection m logs x"
        );
        assert_eq!(
            EngineCli::Docker.argv(Some("m"), &["logs"]).join(" "),
            "docker --context m logs"
        );
        assert_eq!(EngineCli::Docker.argv(None, &["ps"]).join(" "), "docker ps");
    }
}
