//! Where output goes: machine output (JSON) on stdout, human messages on stderr.
//!
//! A closed stdout (`tta status --json | head -1`) is not an error worth a panic; writes
//! ignore a broken pipe. Everything written passes through the scrubber that masks secrets
//! ([`scrub`]), set once at start.

use std::borrow::Cow;
use std::io::Write as _;
use std::sync::OnceLock;

use serde::Serialize;

/// A component's colour, from a hash of its name: the same on every run, and the same
/// whichever other components are shown with it (`tta logs`, `tta up`).
pub(crate) fn name_colour(name: &str) -> console::Color {
    const PALETTE: [console::Color; 6] = [
        console::Color::Cyan,
        console::Color::Yellow,
        console::Color::Green,
        console::Color::Magenta,
        console::Color::Blue,
        console::Color::Red,
    ];
    PALETTE[usize::try_from(crate::hash::fnv1a(name.as_bytes()) % 6).unwrap_or(0)]
}

/// The version of every JSON document `tta` prints; it changes when a field changes meaning.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// A JSON document as `tta` prints it: `schema_version` first, then the body's fields.
#[derive(Debug, Serialize)]
pub(crate) struct Envelope<T: Serialize> {
    schema_version: u32,
    #[serde(flatten)]
    body: T,
}

/// Wraps a document's body (a struct or a JSON object) in the envelope.
pub(crate) fn envelope<T: Serialize>(body: T) -> Envelope<T> {
    Envelope {
        schema_version: SCHEMA_VERSION,
        body,
    }
}

/// What every line `tta` writes passes through: set once at start to the function that
/// masks secrets (`config::secrets::scrub`; this leaf cannot name it).
static SCRUBBER: OnceLock<fn(&str) -> Cow<'_, str>> = OnceLock::new();

/// Sets the function every line of output passes through.
pub(crate) fn set_scrubber(f: fn(&str) -> Cow<'_, str>) {
    let _ = SCRUBBER.set(f);
}

/// `text` as it may be shown: with secrets masked.
pub(crate) fn scrub(text: &str) -> Cow<'_, str> {
    match SCRUBBER.get() {
        Some(f) => f(text),
        None => Cow::Borrowed(text),
    }
}

/// The output settings of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    /// `--json`: machine output on stdout.
    pub json: bool,
    /// `--quiet`: only errors on stderr.
    pub quiet: bool,
    /// Colour on stderr.
    pub color: bool,
    /// Colour on stdout (`tta logs` colours each component's name).
    pub color_stdout: bool,
}

impl Output {
    /// Output settings.
    pub(crate) fn new(json: bool, quiet: bool, color: bool) -> Self {
        Self {
            json,
            quiet,
            color,
            color_stdout: false,
        }
    }

    /// With colour on stdout too.
    #[must_use]
    pub(crate) fn with_color_stdout(mut self, on: bool) -> Self {
        self.color_stdout = on;
        self
    }

    /// Writes to stdout as is; false when stdout is gone (its reader closed the pipe).
    #[expect(
        clippy::unused_self,
        reason = "output goes through the run's Output, whatever it holds"
    )]
    pub(crate) fn stdout(&self, text: &str) -> bool {
        let text = scrub(text);
        let mut o = std::io::stdout().lock();
        o.write_all(text.as_bytes())
            .and_then(|()| o.flush())
            .is_ok()
    }

    /// Writes bytes to stdout as they are; false when stdout is gone.
    #[expect(
        clippy::unused_self,
        reason = "output goes through the run's Output, whatever it holds"
    )]
    pub(crate) fn stdout_bytes(&self, bytes: &[u8]) -> bool {
        // Text still goes through the secrets net; bytes that are not text pass as they are.
        let scrubbed = std::str::from_utf8(bytes).map(scrub);
        let out = match &scrubbed {
            Ok(text) => text.as_bytes(),
            Err(_) => bytes,
        };
        let mut o = std::io::stdout().lock();
        o.write_all(out).and_then(|()| o.flush()).is_ok()
    }

    /// One JSON document on one line of stdout.
    pub(crate) fn json_line<T: serde::Serialize>(&self, value: &T) {
        let mut s = serde_json::to_string(value).expect("output serializes");
        s.push('\n');
        self.stdout(&s);
    }

    /// One JSON document (in its [`Envelope`]) on one line of stdout.
    pub(crate) fn json_doc<T: Serialize>(&self, body: T) {
        self.json_line(&envelope(body));
    }

    /// A human message on stderr (suppressed by `--quiet`).
    pub(crate) fn info(&self, text: &str) {
        if !self.quiet {
            Self::stderr(text);
        }
    }

    /// An error on stderr (never suppressed).
    pub(crate) fn error(&self, text: &str) {
        let styled = if self.color {
            text.replacen(
                "error:",
                &console::style("error:")
                    .red()
                    .bold()
                    .force_styling(true)
                    .to_string(),
                1,
            )
        } else {
            text.to_owned()
        };
        Self::stderr(&styled);
    }

    fn stderr(text: &str) {
        let text = scrub(text);
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = e.write_all(b"\n");
        }
    }

    /// Styles text when colour is on.
    pub(crate) fn style(
        &self,
        text: &str,
        f: impl FnOnce(console::StyledObject<&str>) -> console::StyledObject<&str>,
    ) -> String {
        if self.color {
            f(console::style(text)).force_styling(true).to_string()
        } else {
            text.to_owned()
        }
    }
}
