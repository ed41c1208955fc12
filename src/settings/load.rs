//! Finding, loading and validating the configuration, and `get`/`set`/`save` on it.
//!
//! Loading runs every check on every load (nothing runs unvalidated): YAML syntax, the
//! schema, environment overrides, cross-references and cycles. All problems are gathered
//! and only then located (`file:line:column`, or the variable that set the value), so the
//! source index is built only when there is something to report.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use yaml_serde::Value;

use super::{cache, discover, files, variables};
use crate::cancel::Cancel;
use crate::compose_file::Vars;
use crate::config::effective::{self, Origin};
use crate::config::env::{self, Override};
use crate::config::file::{DEFAULT_FILES, display_name, locate, locate_problems, parse_yaml};
use crate::config::keypath::KeyPath;
use crate::config::model::{Config, Defaults};
use crate::config::problem::Problem;
use crate::config::store::{self, FolderLock, Target, TextForm, read_text};
use crate::config::{edit, parse, secrets, validate, value};
use crate::error::{Error, Result};
use crate::graph::Graph;

thread_local! {
    /// Set while [`Settings::load_tolerant`] loads.
    static TOLERANT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A loaded, validated configuration and the text it came from (the specification's
/// `TTAConfig`): `get`, `set` and `save` work on dotted keys.
///
/// ```
/// use tta::Settings;
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
    /// The tree with `${VAR}` templates resolved, when it had any.
    resolved: Option<Value>,
    /// The whole environment given, which templates read.
    vars: std::sync::Arc<HashMap<String, String>>,
    /// The byte-order mark and line endings of the file, put back when it is saved.
    form: TextForm,
    /// What the file held when it was loaded (or last saved), to refuse a save that would
    /// undo someone else's edit.
    origin: Loaded,
}

/// What a file held when it was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Seen {
    /// Not known: the text did not come from the file.
    #[default]
    Unknown,
    /// There was no file.
    Missing,
    /// A digest of its bytes.
    Bytes(u64),
}

/// What the file held when it was loaded (or last saved).
#[derive(Debug, Default)]
struct Loaded(std::sync::Mutex<Seen>);

impl Clone for Loaded {
    fn clone(&self) -> Self {
        Self(std::sync::Mutex::new(self.get()))
    }
}

impl Loaded {
    fn get(&self) -> Seen {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set(&self, v: Seen) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = v;
    }
}

/// What `path` holds now.
fn digest(path: &Path) -> Result<Seen> {
    use std::hash::{Hash as _, Hasher as _};
    match std::fs::read(path) {
        Ok(bytes) => {
            let mut h = std::hash::DefaultHasher::new();
            bytes.hash(&mut h);
            Ok(Seen::Bytes(h.finish()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Seen::Missing),
        Err(e) => Err(Error::io("read", path, e)),
    }
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
        let (raw, origin) = match &path {
            Some(p) => {
                let raw = read_text(p)?;
                let origin = digest(p)?;
                (raw, origin)
            }
            None => (String::new(), Seen::Missing),
        };
        let (form, text) = TextForm::decode(&raw);
        let mut settings = Self::from_text(text, path, cwd, env)?;
        settings.form = form;
        settings.origin.set(origin);
        Ok(settings)
    }

    /// Loads from text. `path` is where it came from (and where `save` writes); relative
    /// paths inside resolve against its folder, or `cwd` without one.
    pub fn from_text(
        text: String,
        path: Option<PathBuf>,
        cwd: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let vars: HashMap<String, String> = env.into_iter().collect();
        let mut env: Vec<(String, String)> = vars
            .iter()
            .filter(|(k, _)| k.starts_with(env::PREFIX))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        env.sort();
        Self::build(text, path, cwd, env, std::sync::Arc::new(vars), true)
    }

    /// `${VAR}` templates in `value` resolved from `vars` and the `.env` beside the file,
    /// when it has any; `None` when nothing needed resolving.
    fn resolve(
        text: &str,
        env: &[(String, String)],
        value: &Value,
        base_dir: &Path,
        vars: &HashMap<String, String>,
    ) -> Result<(Option<Value>, Vec<Problem>)> {
        if !text.contains('$') && !env.iter().any(|(_, v)| v.contains('$')) {
            return Ok((None, Vec::new()));
        }
        let dotenv = variables::dotenv(base_dir, vars)?;
        let (resolved, problems) =
            variables::interpolate(value, &Vars::new(vars.clone()).with_dotenv(dotenv));
        Ok((Some(resolved), problems))
    }

    /// Parses `tree` (templates resolved; `written` as written) and runs every check on it;
    /// returns the configuration and the secret values found in it.
    fn check(
        tree: &Value,
        written: &Value,
        base_dir: &Path,
        vars: &HashMap<String, String>,
        problems: &mut Vec<Problem>,
    ) -> (Config, Vec<String>) {
        let (mut config, parsed) = parse::parse_partial(tree, base_dir);
        problems.extend(parsed);
        problems.extend(variables::env_files(&mut config, vars));
        // Before any problem is shown: a message may quote a secret value.
        let found = secrets::register(
            tree,
            config
                .components
                .values()
                .flat_map(|c| c.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        );
        if TOLERANT.with(std::cell::Cell::get) {
            let (found, broken) = discover::apply_tolerant(&mut config);
            problems.extend(found);
            for p in broken {
                tracing::warn!(
                    "{}: {} (its services are left out; its running containers are found by their labels)",
                    p.path,
                    p.message
                );
            }
        } else {
            problems.extend(discover::apply(&mut config));
        }
        let declared: Vec<&str> = value::get(written, &KeyPath::root().join("components"))
            .and_then(Value::as_mapping)
            .map(|m| m.keys().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        problems.extend(validate::references(&config, &declared));
        problems.extend(validate::timings(&config, tree));
        problems.extend(files::problems(&config));
        (config, found)
    }

    /// Loads for `tta stop`: a repository whose compose files do not load is skipped with a
    /// warning (its containers are stopped by their labels), rather than keeping the
    /// others from stopping.
    pub(crate) fn load_tolerant(explicit: Option<&Path>) -> Result<Self> {
        let cwd = std::env::current_dir().map_err(|e| Error::io("read", ".", e))?;
        let path = locate(explicit, &cwd)?;
        let text = match &path {
            Some(p) => read_text(p)?,
            None => String::new(),
        };
        TOLERANT.with(|t| t.set(true));
        let loaded = Self::from_text(text, path, &cwd, env::process_vars());
        TOLERANT.with(|t| t.set(false));
        loaded
    }

    fn build(
        text: String,
        path: Option<PathBuf>,
        cwd: &Path,
        env: Vec<(String, String)>,
        vars: std::sync::Arc<HashMap<String, String>>,
        use_cache: bool,
    ) -> Result<Self> {
        let display = display_name(path.as_deref(), cwd);
        let cache_key = cache::key(path.as_deref(), cwd, &text, &env).filter(|_| use_cache);
        if let (Some(p), Some(k)) = (path.as_deref(), cache_key)
            && let Some(hit) = cache::load(p, k)
        {
            secrets::remember(&hit.secrets);
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
                resolved: None,
                vars,
                form: TextForm::default(),
                origin: Loaded::default(),
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
        let (resolved, mut problems) = Self::resolve(&text, &env, &value, &base_dir, &vars)?;
        let (config, found) = Self::check(
            resolved.as_ref().unwrap_or(&value),
            &value,
            &base_dir,
            &vars,
            &mut problems,
        );
        let graph = match Graph::build(&config) {
            Ok(g) if problems.is_empty() => g,
            Ok(_) => return Err(fail(problems)),
            Err(cycles) => {
                problems.extend(cycles);
                return Err(fail(problems));
            }
        };
        if let (Some(p), Some(k)) = (path.as_deref(), cache_key) {
            cache::store(p, k, (&config, &graph), &overrides, &found);
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
            resolved,
            vars,
            form: TextForm::default(),
            origin: Loaded::default(),
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
                    self.vars.clone(),
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

    /// The effective tree with `${VAR}` templates resolved: what `tta` runs with.
    pub(crate) fn resolved_value(&self) -> &Value {
        self.resolved.as_ref().unwrap_or_else(|| self.value())
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

    /// [`Settings::from_text`] for the text `config set` made by setting `key` in
    /// `original`: a problem with the value is reported at the value given (the edited
    /// text was never written, so its lines mean nothing to the user), any other problem
    /// at its place in `original`, the file as it is.
    pub(crate) fn from_edit(
        edited: String,
        path: PathBuf,
        cwd: &Path,
        env: impl IntoIterator<Item = (String, String)>,
        original: &str,
        key: &KeyPath,
    ) -> Result<Self> {
        let display = display_name(Some(&path), cwd);
        Self::from_text(edited, Some(path), cwd, env).map_err(|e| match e {
            Error::InvalidConfig {
                source_name,
                problems,
            } => Error::InvalidConfig {
                source_name,
                problems: relocate(problems, original, &display, key),
            },
            other => other,
        })
    }

    /// The value `tta` uses for a dotted key, written or not, and where it comes from; an
    /// error with "did you mean" for a key the schema does not have.
    pub(crate) fn lookup(
        &self,
        key: &str,
        project_name: &dyn Fn(&str, &Path) -> String,
    ) -> Result<(Value, Origin)> {
        let path = KeyPath::parse(key).map_err(|e| Error::usage(e.to_string(), None))?;
        let display = self.display_name();
        let sources = effective::Sources {
            written: self.resolved_value(),
            text: &self.text,
            display: &display,
            overrides: &self.overrides,
            config: self.config(),
        };
        effective::lookup(&sources, &path, project_name)
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
        let mut next = Self::build(
            text,
            self.path.clone(),
            &self.cwd,
            self.env.clone(),
            self.vars.clone(),
            true,
        )?;
        next.form = self.form;
        next.origin = self.origin.clone();
        *self = next;
        Ok(())
    }

    /// Writes the file's text (without environment overrides) to `path`, or to the file it
    /// came from, or to `./tta.yaml` when there was none; returns where. The file stays the
    /// user's: a link is written through, hard links, owner, group, mode, byte-order mark and
    /// line endings are kept, a read-only file or one that is not a regular file is refused,
    /// and saving over the file this came from fails when the file changed since it was
    /// loaded (another edit would be lost).
    pub fn save(&self, path: Option<&Path>) -> Result<PathBuf> {
        self.save_with(path, None, &Cancel::new(), || {})
    }

    /// [`Settings::save`] with `text` instead of the file's text, a cancel that ends a wait
    /// for another edit, and `on_wait` called if there is such a wait.
    pub(crate) fn save_with(
        &self,
        path: Option<&Path>,
        text: Option<&str>,
        cancel: &Cancel,
        on_wait: impl FnOnce(),
    ) -> Result<PathBuf> {
        let named = match (path, &self.path) {
            (Some(p), _) => self.cwd.join(p),
            (None, Some(p)) => p.clone(),
            (None, None) => self.cwd.join(DEFAULT_FILES[0]),
        };
        let target = Target::resolve(&named)?;
        let _lock = FolderLock::take(&target, cancel, on_wait)?;
        let own = match &self.path {
            None => path.is_none(),
            Some(p) => Target::resolve(p).is_ok_and(|t| same_file(&t.real, &target.real)),
        };
        let expected = self.origin.get();
        if own && expected != Seen::Unknown {
            let now = digest(&target.real)?;
            if now != expected {
                return Err(Error::ConfigWrite {
                    path: named,
                    message: "it changed since it was loaded; saving would undo that change".into(),
                    hint: "load it again and repeat the change".into(),
                });
            }
        }
        let bytes = self.form.encode(text.unwrap_or(&self.text));
        store::write(&target, &bytes, cancel)?;
        if own {
            self.origin.set(digest(&target.real)?);
        }
        Ok(named)
    }
}

/// Locates the problems of an edit: at the value given, or in the file as it is.
fn relocate(
    problems: Vec<crate::diagnostics::Located>,
    original: &str,
    display: &str,
    key: &KeyPath,
) -> Vec<crate::diagnostics::Located> {
    let index = crate::config::source::SourceIndex::build(original).ok();
    let mut given = Vec::new();
    let mut elsewhere = Vec::new();
    for mut l in problems {
        if l.location.ends_with("(environment)") {
            elsewhere.push(l);
            continue;
        }
        let Ok(at) = KeyPath::parse(&l.key) else {
            elsewhere.push(l);
            continue;
        };
        let in_file = index.as_ref().and_then(|i| i.get(&at)).is_some();
        if at.segments().starts_with(key.segments()) || !in_file {
            // The value given, or what it created (a new component that lacks a key).
            l.location = format!("the value given for {key}");
            given.push(l);
        } else {
            l.location = match index.as_ref().and_then(|i| i.position(&at)) {
                Some(p) => format!("{display}:{}:{}", p.line, p.column),
                None => display.to_owned(),
            };
            elsewhere.push(l);
        }
    }
    given.extend(elsewhere);
    given
}

/// Whether two paths name the same file (the same one, or the same inode).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => a == b,
    }
}
