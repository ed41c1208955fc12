//! Finding, loading and validating the configuration, and `get`/`set`/`save` on it.
//!
//! Loading runs every check on every load (nothing runs unvalidated): YAML syntax, the
//! schema, environment overrides, cross-references and cycles. All problems are gathered
//! and only then located (`file:line:column`, or the variable that set the value), so the
//! source index is built only when there is something to report.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use yaml_serde::Value;

use super::env::{self, Override};
use super::keypath::KeyPath;
use super::model::{Config, Defaults};
use super::problem::{Located, Problem};
use super::source::SourceIndex;
use super::{cache, edit, parse, validate, value};
use crate::discover;
use crate::error::{Error, Result};
use crate::graph::Graph;

/// File names looked for, in order, when no file is named.
pub const DEFAULT_FILES: [&str; 2] = ["tta.yaml", "config/tta.yaml"];

/// Finds the config file: the one named (which must exist), else `./tta.yaml`, else
/// `./config/tta.yaml`, else none (an empty stack).
pub fn locate(explicit: Option<&Path>, cwd: &Path) -> Result<Option<PathBuf>> {
    if let Some(p) = explicit {
        let p = cwd.join(p);
        return if p.is_file() {
            Ok(Some(p))
        } else {
            Err(Error::ConfigNotFound { path: p })
        };
    }
    Ok(DEFAULT_FILES
        .iter()
        .map(|f| cwd.join(f))
        .find(|p| p.is_file()))
}

/// A loaded, validated configuration and the text it came from (the specification's
/// `TTAConfig`): `get`, `set` and `save` work on dotted keys.
///
/// ```
/// use tta::config::Settings;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tta.yaml");
/// std::fs::write(&path, "# my stack\ndefaults:\n  jobs: 4  # at most four at once\n")?;
/// let mut settings = Settings::load(Some(&path))?;
/// assert_eq!(settings.get("defaults.jobs")?.as_u64(), Some(4));
///
/// settings.set("defaults.start_timeout", &yaml_serde::Value::from("30s"))?;
/// settings.save(None)?;
/// let text = std::fs::read_to_string(&path)?;
/// assert_eq!(text, "# my stack\ndefaults:\n  jobs: 4  # at most four at once\n  start_timeout: 30s\n");
///
/// // Anything invalid is refused and leaves the settings as they were.
/// assert!(settings.set("defaults.jobs", &yaml_serde::Value::from(0)).is_err());
/// assert_eq!(settings.config().defaults.jobs, 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Settings {
    path: Option<PathBuf>,
    cwd: PathBuf,
    text: String,
    value: OnceLock<Value>,
    env: Vec<(String, String)>,
    overrides: Vec<Override>,
    defaults: Defaults,
    config: OnceLock<Config>,
    /// The encoded configuration of a cached load, decoded on first use.
    config_blob: Vec<u8>,
    graph: Graph,
}

impl Settings {
    /// Loads with the process's working directory and environment.
    pub fn load(explicit: Option<&Path>) -> Result<Self> {
        let cwd = std::env::current_dir().map_err(|e| Error::io("read", ".", e))?;
        Self::load_from(explicit, &cwd, env::process_vars())
    }

    /// Loads relative to `cwd`, with the given environment.
    pub fn load_from(
        explicit: Option<&Path>,
        cwd: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let path = locate(explicit, cwd)?;
        let text = match &path {
            Some(p) => read_text(p)?,
            None => String::new(),
        };
        Self::from_text(text, path, cwd, env)
    }

    /// Loads from text. `path` is where it came from (and where `save` writes); relative
    /// paths inside resolve against its folder, or `cwd` without one.
    pub fn from_text(
        text: String,
        path: Option<PathBuf>,
        cwd: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(env::PREFIX))
            .collect();
        Self::build(text, path, cwd, env, true)
    }

    fn build(
        text: String,
        path: Option<PathBuf>,
        cwd: &Path,
        env: Vec<(String, String)>,
        use_cache: bool,
    ) -> Result<Self> {
        let display = display_name(path.as_deref(), cwd);
        let cache_key = cache::key(path.as_deref(), cwd, &text, &env).filter(|_| use_cache);
        if let (Some(p), Some(k)) = (path.as_deref(), cache_key)
            && let Some(hit) = cache::load(p, k)
        {
            return Ok(Self {
                path,
                cwd: cwd.to_path_buf(),
                text,
                value: OnceLock::new(),
                env,
                overrides: hit.overrides,
                defaults: hit.defaults,
                config: OnceLock::new(),
                config_blob: hit.config,
                graph: hit.graph,
            });
        }
        let mut value = parse_yaml(&text, &display)?;
        let overrides = env::apply(&mut value, env.iter().cloned()).map_err(|problems| {
            Error::InvalidConfig {
                source_name: "the environment".into(),
                problems,
            }
        })?;
        let base_dir = path
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
        let fail = |problems: Vec<Problem>| Error::InvalidConfig {
            source_name: display.clone(),
            problems: locate_problems(problems, &display, &text, &overrides),
        };
        let (mut config, mut problems) = parse::parse_partial(&value, &base_dir);
        problems.extend(discover::apply(&mut config));
        let declared: Vec<&str> = value::get(&value, &KeyPath::root().join("components"))
            .and_then(Value::as_mapping)
            .map(|m| m.keys().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        problems.extend(validate::references(&config, &declared));
        let graph = match Graph::build(&config) {
            Ok(g) if problems.is_empty() => g,
            Ok(_) => return Err(fail(problems)),
            Err(cycles) => {
                problems.extend(cycles);
                return Err(fail(problems));
            }
        };
        if let (Some(p), Some(k)) = (path.as_deref(), cache_key) {
            cache::store(p, k, &config, &graph, &overrides);
        }
        Ok(Self {
            path,
            cwd: cwd.to_path_buf(),
            text,
            value: OnceLock::from(value),
            env,
            overrides,
            defaults: config.defaults.clone(),
            config: OnceLock::from(config),
            config_blob: Vec::new(),
            graph,
        })
    }

    /// The file the configuration came from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The file's text (empty without a file), including edits made by [`Settings::set`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        self.config.get_or_init(|| {
            cache::decode(&self.config_blob).unwrap_or_else(|| {
                // A damaged cache entry: parse the text again (it was valid when cached).
                Self::build(
                    self.text.clone(),
                    self.path.clone(),
                    &self.cwd,
                    self.env.clone(),
                    false,
                )
                .ok()
                .and_then(|s| s.config.into_inner())
                .unwrap_or_else(|| panic!("{} changed while in use", self.display_name()))
            })
        })
    }

    /// The defaults (cheaper than [`Settings::config`] after a cached load).
    pub fn defaults(&self) -> &Defaults {
        &self.defaults
    }

    /// The dependency graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The effective tree: the file with environment overrides applied.
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            // A cached load did not parse the text; it parsed before, so it parses again.
            let mut v = parse_yaml(&self.text, &self.display_name()).unwrap_or(Value::Null);
            let _ = env::apply(&mut v, self.env.iter().cloned());
            v
        })
    }

    /// The environment overrides that were applied.
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// The file's name as shown to the user.
    pub fn display_name(&self) -> String {
        display_name(self.path.as_deref(), &self.cwd)
    }

    /// The value at a dotted key (`components."tta.dev".path`).
    pub fn get(&self, key: &str) -> Result<&Value> {
        let path = KeyPath::parse(key).map_err(|e| Error::usage(e.to_string(), None))?;
        value::get(self.value(), &path).ok_or_else(|| Error::KeyNotFound {
            key: key.to_owned(),
        })
    }

    /// Sets a key in the file's text, keeping comments and order, and validates the result.
    /// Nothing is written until [`Settings::save`]; on error, `self` is unchanged.
    pub fn set(&mut self, key: &str, new: &Value) -> Result<()> {
        let path = KeyPath::parse(key).map_err(|e| Error::usage(e.to_string(), None))?;
        let text = edit::set(&self.text, &path, new).map_err(|e| {
            Error::usage(
                format!("cannot set `{key}`: {e}"),
                Some(format!("edit {} by hand", self.display_name())),
            )
        })?;
        let next = Self::from_text(text, self.path.clone(), &self.cwd, self.env.clone())?;
        *self = next;
        Ok(())
    }

    /// Writes the file's text (without environment overrides) atomically to `path`, or to
    /// the file it came from, or to `./tta.yaml` when there was none. Returns where.
    pub fn save(&self, path: Option<&Path>) -> Result<PathBuf> {
        let target = match (path, &self.path) {
            (Some(p), _) => self.cwd.join(p),
            (None, Some(p)) => p.clone(),
            (None, None) => self.cwd.join(DEFAULT_FILES[0]),
        };
        write_atomic(&target, self.text.as_bytes())?;
        Ok(target)
    }
}

fn read_text(p: &Path) -> Result<String> {
    let bytes = std::fs::read(p).map_err(|e| Error::io("read", p, e))?;
    String::from_utf8(bytes).map_err(|e| Error::ConfigSyntax {
        location: format!("{}: byte {}", p.display(), e.utf8_error().valid_up_to()),
        message: "the file is not valid UTF-8".into(),
    })
}

fn display_name(path: Option<&Path>, cwd: &Path) -> String {
    match path {
        Some(p) => p.strip_prefix(cwd).unwrap_or(p).display().to_string(),
        None => "the built-in defaults".into(),
    }
}

fn parse_yaml(text: &str, display: &str) -> Result<Value> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    super::source::check_depth(text).map_err(|e| Error::ConfigSyntax {
        location: format!("{display}:{}:{}", e.pos.line, e.pos.column),
        message: e.message,
    })?;
    let mut v: Value = yaml_serde::from_str(text).map_err(|e| syntax(&e, display))?;
    v.apply_merge().map_err(|e| syntax(&e, display))?;
    match v {
        Value::Null | Value::Mapping(_) => Ok(v),
        other => Err(Error::ConfigSyntax {
            location: format!("{display}:1:1"),
            message: format!(
                "the configuration must be a mapping (`components:`, `repositories:`, ...), not {}",
                match other {
                    Value::Sequence(_) => "a list",
                    _ => "a single value",
                }
            ),
        }),
    }
}

fn syntax(e: &yaml_serde::Error, display: &str) -> Error {
    let location = match e.location() {
        Some(l) => format!("{display}:{}:{}", l.line(), l.column()),
        None => display.to_owned(),
    };
    let message = e.to_string();
    // yaml_serde appends " at line X column Y": the location already says it.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    Error::ConfigSyntax { location, message }
}

fn locate_problems(
    problems: Vec<Problem>,
    display: &str,
    text: &str,
    overrides: &[Override],
) -> Vec<Located> {
    let index = SourceIndex::build(text).ok();
    let mut located: Vec<((usize, usize), Located)> = problems
        .into_iter()
        .map(|p| {
            let by_env = overrides
                .iter()
                .find(|o| p.path.segments().starts_with(o.path.segments()));
            let pos = index.as_ref().and_then(|i| i.position(&p.path));
            let (order, location) = match (by_env, pos) {
                (Some(o), _) => ((0, 0), format!("{} (environment)", o.var)),
                (None, Some(pos)) => (
                    (pos.line, pos.column),
                    format!("{display}:{}:{}", pos.line, pos.column),
                ),
                (None, None) => ((usize::MAX, 0), display.to_owned()),
            };
            let l = Located {
                location,
                key: p.path.to_string(),
                message: p.message,
                help: p.help,
            };
            (order, l)
        })
        .collect();
    // In file order, so the list reads top to bottom like the file.
    located.sort_by_key(|(order, _)| *order);
    located.into_iter().map(|(_, l)| l).collect()
}

/// Writes `bytes` to `path` so that a reader (or a crash) sees the old content or the new,
/// never a mix: a temporary file in the same folder, synced, then renamed over the target
/// (keeping its permissions).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tta-save-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
    if let Ok(meta) = std::fs::metadata(path) {
        // Best effort: a file we may not chmod keeps the temporary file's mode.
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(path)
        .map_err(|e| Error::io("write", path, e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
