//! Generated artefacts: shell completions and the manual page, from the clap definitions.
//! The checked-in copies (`completions/`, `docs/tta.1`) are compared with these by a test,
//! so they cannot drift.

use clap::CommandFactory as _;

use crate::cli::Cli;

/// A completion script for `shell`.
pub(crate) fn completions(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tta", &mut buf);
    String::from_utf8(buf).expect("completion scripts are UTF-8")
}

/// The manual page, in roff.
pub(crate) fn man_page() -> String {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .expect("rendering to memory cannot fail");
    String::from_utf8(buf).expect("the manual page is UTF-8")
}
