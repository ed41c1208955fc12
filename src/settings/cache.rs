//! A cache of validated configurations, so that a large generated stack (thousands of
//! components) loads in milliseconds after its first use.
//!
//! YAML parsing dominates loading a large file (about 7 MB/s here), and every `tta`
//! command loads the configuration. The validated result (config and graph) is stored in a
//! compact binary form (postcard) under the user's cache folder, keyed by everything it was
//! derived from: `tta`'s version, the file's path and text, the working directory and the
//! `TTA__` overrides. Any change gives a new key, so a stale entry is never used. Configs
//! that discover compose services are not cached (their inputs include compose files), nor
//! are small files, which parse faster than a cache could be checked.

use std::hash::{DefaultHasher, Hasher as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::env::Override;
use crate::config::model::{Config, Defaults};
use crate::config::write_atomic;
use crate::graph::Graph;

/// The layout of an entry: raised whenever `Config` or `Graph` change shape, so an entry
/// written by an older build is never decoded as the new one.
const FORMAT: u8 = 4;

/// Files smaller than this are parsed every time.
pub(super) const MIN_SIZE: usize = 32 * 1024;

/// What an entry depends on, hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Key(u64, u64);

#[derive(Serialize, Deserialize)]
struct Entry {
    key: Key,
    defaults: Defaults,
    graph: Graph,
    overrides: Vec<Override>,
    /// The secret values found in it, for the output's mask.
    secrets: Vec<String>,
    /// The configuration, encoded on its own: commands that need only the graph (a plan,
    /// `tta graph`) never pay for decoding it.
    config: Vec<u8>,
}

/// A cached load.
pub(super) struct Hit {
    /// The secret values found in it.
    pub secrets: Vec<String>,
    /// The defaults (needed by plans without the rest of the configuration).
    pub defaults: Defaults,
    /// Its graph.
    pub graph: Graph,
    /// The overrides that were applied.
    pub overrides: Vec<Override>,
    /// The encoded configuration; see [`decode`].
    pub config: Vec<u8>,
}

/// Decodes the configuration of a hit.
pub(super) fn decode(bytes: &[u8]) -> Option<Config> {
    postcard::from_bytes(bytes).ok()
}

fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("TTA_CACHE_DIR") {
        return (!d.is_empty()).then(|| PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("tta"));
    }
    std::env::home_dir().map(|h| h.join(".cache").join("tta"))
}

fn entry_path(path: &Path) -> Option<PathBuf> {
    let mut h = DefaultHasher::new();
    h.write(path.as_os_str().as_encoded_bytes());
    Some(dir()?.join(format!("config-{:016x}.bin", h.finish())))
}

/// The key of a load, or `None` when it is not worth caching.
pub(super) fn key(
    path: Option<&Path>,
    cwd: &Path,
    text: &str,
    env: &[(String, String)],
) -> Option<Key> {
    let path = path?;
    // Below the size that pays, or with inputs beyond the key: `${VAR}` templates read the
    // whole environment and `.env`, and `env_file` reads other files.
    if text.len() < MIN_SIZE || text.contains('$') || text.contains("env_file") {
        return None;
    }
    let hash = |salt: u8| {
        let mut h = DefaultHasher::new();
        h.write_u8(salt);
        h.write_u8(FORMAT);
        h.write(env!("CARGO_PKG_VERSION").as_bytes());
        h.write(path.as_os_str().as_encoded_bytes());
        h.write_u8(0);
        h.write(cwd.as_os_str().as_encoded_bytes());
        h.write_u8(0);
        h.write(text.as_bytes());
        for (k, v) in env {
            h.write(k.as_bytes());
            h.write_u8(b'=');
            h.write(v.as_bytes());
            h.write_u8(0);
        }
        h.finish()
    };
    Some(Key(hash(1), hash(2)))
}

/// The cached load for `key`, if there is one.
pub(super) fn load(path: &Path, key: Key) -> Option<Hit> {
    let bytes = std::fs::read(entry_path(path)?).ok()?;
    let entry: Entry = postcard::from_bytes(&bytes).ok()?;
    if entry.key != key {
        return None;
    }
    let mut graph = entry.graph;
    graph.reindex();
    Some(Hit {
        secrets: entry.secrets,
        defaults: entry.defaults,
        graph,
        overrides: entry.overrides,
        config: entry.config,
    })
}

/// Stores a validated load (best effort: a cache that cannot be written is skipped).
pub(super) fn store(
    path: &Path,
    key: Key,
    (config, graph): (&Config, &Graph),
    overrides: &[Override],
    secrets: &[String],
) {
    if config.repositories.values().any(|r| r.discover) {
        return;
    }
    let Some(file) = entry_path(path) else { return };
    let Ok(config_bytes) = postcard::to_allocvec(config) else {
        return;
    };
    let entry = Entry {
        key,
        defaults: config.defaults.clone(),
        graph: graph.clone(),
        overrides: overrides.to_vec(),
        secrets: secrets.to_vec(),
        config: config_bytes,
    };
    let Ok(bytes) = postcard::to_allocvec(&entry) else {
        return;
    };
    if let Some(d) = file.parent()
        && std::fs::create_dir_all(d).is_ok()
        && let Err(e) = write_atomic(&file, &bytes)
    {
        tracing::debug!("config cache not written: {}", crate::error::render(&e));
    }
}
