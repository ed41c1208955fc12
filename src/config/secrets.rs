//! Secrets: one set of rules for what is secret, applied to everything `tta` prints that can
//! carry a configured value.
//!
//! What is secret:
//! - the value under a key named like `password`, `passwd`, `pass`, `secret`, `token`,
//!   `credential`, `apikey`, `private_key`, `auth` or `key` (as a word: `API_KEY`, `apiKey`,
//!   but not `keys` or `monkey`); under an `auth` key a `user/password` or `user:password`
//!   pair keeps its user (`NEO4J_AUTH: neo4j/****`);
//! - the password of a URL's userinfo (`http://user:****@host/`), anywhere;
//! - `NAME=value` where `NAME` is a secret key (`PGPASSWORD=**** psql`, `--password=****`);
//! - in an argv list, the argument after a secret flag (`--password ****`, `--auth
//!   neo4j/****`, `-u user:****`).
//!
//! How it is applied:
//! - [`mask`] masks a value tree structurally (`config show|get|set`, their `--json`);
//! - [`redact`] and [`redact_argv`] mask text and argv (probe descriptions and errors);
//! - [`scrub`] is the net under everything else: every line `tta` writes (stdout, stderr,
//!   progress, logs at every verbosity, JSON) goes through it, and it masks each secret
//!   value of the loaded configuration ([`register`]) wherever it appears, as well as the
//!   shapes above. A value is registered when it has at least [`MIN_LITERAL`] characters
//!   and is not also a public word of the configuration (a key, a name, a value under a
//!   key that is not secret): masking those would mask the stack's names, and they are
//!   printed anyway. `--reveal` turns the net off for `config get|show`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use yaml_serde::Value;

use super::keypath::KeyPath;

/// What a masked value is shown as.
pub(crate) const MASK: &str = "****";

/// The shortest secret value masked by [`scrub`] wherever it appears; shorter ones are
/// masked only where their shape shows them (a secret key's value, a URL's password).
pub(crate) const MIN_LITERAL: usize = 4;

/// Whether a key names a secret: `DB_PASSWORD`, `api_token`, `client-secret`, `API_KEY`,
/// `apiKey`, `key`, `NEO4J_AUTH`, `DB_PASS` — but not `keys`, `keyboard`, `monkey_count`,
/// `author` or `passthrough`.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    if [
        "password",
        "passwd",
        "secret",
        "token",
        "credential",
        "apikey",
        "private_key",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return true;
    }
    // Words of their own: `api_key`, `key`, `signing-key`, `apiKey`, `NEO4J_AUTH`, `DB_PASS`.
    split_words(key)
        .iter()
        .any(|w| matches!(w.as_str(), "key" | "auth" | "pass"))
}

/// Whether a key holds credentials that may be a `user/password` pair.
fn is_auth_key(key: &str) -> bool {
    split_words(key)
        .iter()
        .any(|w| matches!(w.as_str(), "auth" | "credential" | "credentials" | "user"))
}

fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Whether any segment of a path names a secret.
pub(crate) fn is_secret_path(path: &KeyPath) -> bool {
    path.segments().iter().any(|s| is_secret_key(s))
}

/// The secret part of a value under the secret key `key`: the password of a `user/password`
/// or `user:password` pair under an auth key, else all of it.
fn secret_part<'v>(key: &str, value: &'v str) -> &'v str {
    if is_auth_key(key)
        && let Some(i) = value.find(['/', ':'])
        && i > 0
        && i + 1 < value.len()
        && !value[..i].contains(char::is_whitespace)
    {
        return &value[i + 1..];
    }
    value
}

/// A value under the secret key `key`, masked.
fn masked_value(key: &str, value: &str) -> String {
    let secret = secret_part(key, value);
    if secret.len() == value.len() {
        MASK.to_owned()
    } else {
        format!("{}{MASK}", &value[..value.len() - secret.len()])
    }
}

/// Every secret found in free text by its shape: URL passwords and `NAME=value`
/// assignments of secret names, as (start, end) byte ranges.
fn shaped(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    // URL userinfo: scheme://user:password@host
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let start = from + i + 3;
        let end = text[start..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '`' | '>' | ')')
            })
            .map_or(text.len(), |j| start + j);
        let authority = &text[start..end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
            && colon + 1 < at
        {
            out.push((start + colon + 1, start + at));
        }
        from = end.max(start);
    }
    // NAME=value (also `--name=value`, `export NAME=value`)
    for (i, _) in text.match_indices('=') {
        let name_start = text[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(0, |j| j + 1);
        let name = text[name_start..i].trim_start_matches('-');
        if name.is_empty() || !is_secret_key(name) {
            continue;
        }
        let rest = &text[i + 1..];
        let (quote, body) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &rest[1..]),
            _ => (None, rest),
        };
        let len = match quote {
            Some(q) => body.find(q).unwrap_or(body.len()),
            None => body
                .find(|c: char| {
                    c.is_whitespace()
                        || matches!(c, ';' | '&' | '|' | '"' | '\'' | ',' | ')' | '}' | ']')
                })
                .unwrap_or(body.len()),
        };
        let value_start = i + 1 + usize::from(quote.is_some());
        let secret = secret_part(name, &text[value_start..value_start + len]);
        if !secret.is_empty() {
            let s = value_start + len - secret.len();
            out.push((s, value_start + len));
        }
    }
    out
}

fn replace_ranges(text: &str, mut ranges: Vec<(usize, usize)>) -> Cow<'_, str> {
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in ranges {
        if s < at {
            at = at.max(e);
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str(MASK);
        at = e;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// `text` with every secret its shape shows masked: URL passwords and secret `NAME=value`.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    if !text.contains("://") && !text.contains('=') {
        return Cow::Borrowed(text);
    }
    replace_ranges(text, shaped(text))
}

/// Flags whose next argument is a secret (or a `user:password` pair).
fn secret_flag(arg: &str) -> Option<&str> {
    let name = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    if name.contains('=') {
        return None;
    }
    (is_secret_key(name) || matches!(name, "u" | "user")).then_some(name)
}

/// An argv list with its secrets masked: each argument's shapes, and the argument after a
/// secret flag.
pub(crate) fn redact_argv(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut after: Option<&str> = None;
    for arg in argv {
        let shown = match after.take() {
            Some("u" | "user") if arg.contains(':') => masked_value("user", arg),
            Some("u" | "user") => arg.clone(),
            Some(flag) => masked_value(flag, arg),
            None => redact(arg).into_owned(),
        };
        after = secret_flag(arg);
        out.push(shown);
    }
    out
}

/// A copy of `v` with every secret masked: values under secret keys (keeping the user of a
/// `user/password` pair), URL passwords, secret `NAME=value`, the argument after a secret
/// flag in a list.
pub fn mask(v: &Value) -> Value {
    match v {
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .map(|(k, val)| {
                    let key = k.as_str().filter(|k| is_secret_key(k));
                    let shown = match (key, val) {
                        (Some(k), Value::String(s)) => Value::from(masked_value(k, s)),
                        (Some(_), Value::Null) => Value::Null,
                        (Some(_), Value::Mapping(_) | Value::Sequence(_)) => mask_all(val),
                        (Some(_), _) => Value::from(MASK),
                        (None, other) => mask(other),
                    };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Sequence(items) if items.iter().all(Value::is_string) => {
            let argv: Vec<String> = items
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            Value::Sequence(redact_argv(&argv).into_iter().map(Value::from).collect())
        }
        Value::Sequence(items) => Value::Sequence(items.iter().map(mask).collect()),
        Value::String(s) => Value::from(redact(s).into_owned()),
        other => other.clone(),
    }
}

/// The value at `path`, masked as [`mask`] masks it where it stands: under a secret key
/// (a pair keeps its user), below one (all of it), or elsewhere (its own secrets).
pub(crate) fn mask_at(path: &KeyPath, v: &Value) -> Value {
    let segs = path.segments();
    match (segs.last(), v) {
        (Some(last), Value::String(s)) if is_secret_key(last) => Value::from(masked_value(last, s)),
        (_, Value::Null) => Value::Null,
        _ if segs.iter().any(|s| is_secret_key(s)) => mask_all(v),
        _ => mask(v),
    }
}

/// Every scalar under a secret key, masked.
fn mask_all(v: &Value) -> Value {
    match v {
        Value::Mapping(m) => {
            Value::Mapping(m.iter().map(|(k, x)| (k.clone(), mask_all(x))).collect())
        }
        Value::Sequence(s) => Value::Sequence(s.iter().map(mask_all).collect()),
        Value::Null => Value::Null,
        _ => Value::from(MASK),
    }
}

// ---- the net under all output ------------------------------------------------------------

/// The secret values of the configurations loaded in this process, longest first.
static LITERALS: RwLock<Vec<String>> = RwLock::new(Vec::new());
/// `--reveal`: the user asked to see secrets.
static REVEAL: AtomicBool = AtomicBool::new(false);

/// Turns the net off (`config get|show --reveal`).
pub(crate) fn reveal() {
    REVEAL.store(true, Ordering::SeqCst);
}

/// Collects secrets and public words of a tree.
#[derive(Default)]
struct Collect {
    secrets: Vec<String>,
    public: HashSet<String>,
}

impl Collect {
    fn tree(&mut self, v: &Value, secret_key: Option<&str>) {
        match v {
            Value::Mapping(m) => {
                for (k, x) in m {
                    let key = k.as_str().unwrap_or_default();
                    self.public.insert(key.to_owned());
                    let secret = secret_key.or(is_secret_key(key).then_some(key));
                    self.tree(x, secret);
                }
            }
            Value::Sequence(items) => {
                let argv: Vec<String> = items
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect();
                self.argv(&argv);
                for x in items {
                    self.tree(x, secret_key);
                }
            }
            Value::String(s) => self.string(s, secret_key),
            Value::Number(n) => self.string(&n.to_string(), secret_key),
            _ => {}
        }
    }

    fn string(&mut self, s: &str, secret_key: Option<&str>) {
        if let Some(k) = secret_key {
            let part = secret_part(k, s);
            self.secrets.push(part.to_owned());
            if part.len() != s.len() {
                self.public.insert(s[..s.len() - part.len() - 1].to_owned());
            }
        } else {
            self.public.insert(s.to_owned());
            for (a, b) in shaped(s) {
                self.secrets.push(s[a..b].to_owned());
            }
        }
    }

    fn argv(&mut self, argv: &[String]) {
        for pair in argv.windows(2) {
            match secret_flag(&pair[0]) {
                Some("u" | "user") => {
                    if let Some((_, pw)) = pair[1].split_once(':') {
                        self.secrets.push(pw.to_owned());
                    }
                }
                Some(flag) => self.secrets.push(secret_part(flag, &pair[1]).to_owned()),
                None => {}
            }
        }
    }
}

/// Remembers the secret values of a configuration tree (and of `extra` environments: the
/// variables `env_file` gave), for [`scrub`]; returns them, for a cache to keep.
pub(crate) fn register<'a>(
    tree: &Value,
    extra: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let mut c = Collect::default();
    c.tree(tree, None);
    for (k, v) in extra {
        if is_secret_key(k) {
            c.string(v, Some(k));
        }
    }
    let mut found: Vec<String> = c
        .secrets
        .into_iter()
        .filter(|s| s.chars().count() >= MIN_LITERAL && !c.public.contains(s))
        .collect();
    // As JSON writes them too, when that differs (a quote, a backslash).
    let escaped: Vec<String> = found
        .iter()
        .filter_map(|s| {
            let j = serde_json::to_string(s).ok()?;
            let inner = &j[1..j.len() - 1];
            (inner != s).then(|| inner.to_owned())
        })
        .collect();
    found.extend(escaped);
    remember(&found);
    found
}

/// Remembers secret values found before (by [`register`], kept in the cache).
pub(crate) fn remember(found: &[String]) {
    let mut all = LITERALS
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    all.extend(found.iter().cloned());
    all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    all.dedup();
}

/// `text` with every registered secret value and every secret shape masked; as is after
/// [`reveal`]. Everything `tta` prints goes through here.
pub(crate) fn scrub(text: &str) -> Cow<'_, str> {
    if REVEAL.load(Ordering::Relaxed) {
        return Cow::Borrowed(text);
    }
    let literals = LITERALS
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = Cow::Borrowed(text);
    for lit in literals.iter() {
        if out.contains(lit.as_str()) {
            out = Cow::Owned(out.replace(lit.as_str(), MASK));
        }
    }
    match redact(&out) {
        Cow::Borrowed(_) => out,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for k in [
            "password",
            "DB_PASSWORD",
            "api_token",
            "client-secret",
            "API_KEY",
            "apiKey",
            "key",
            "ssh.key",
            "credentials",
            "NEO4J_AUTH",
            "DB_PASS",
            "auth",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "keys",
            "keyboard",
            "monkey_count",
            "path",
            "jobs",
            "depends_on",
            "author",
            "passthrough",
            "PWD",
            "compass",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn masks_nested_values_pairs_urls_and_flags() {
        let v: Value = yaml_serde::from_str(
            "components:\n  db:\n    env: { POSTGRES_PASSWORD: hunter2, USER: me, NEO4J_AUTH: neo4j/s3cret, URL: 'postgres://u:pw@h/db' }\n    command: [app, --password, hunter3, --token=t0k, -u, 'bob:pw2', --auth, 'neo4j/x']\n    shell: PGPASSWORD=abc psql\n",
        )
        .unwrap();
        let m = mask(&v);
        let db = &m["components"]["db"];
        assert_eq!(db["env"]["POSTGRES_PASSWORD"], Value::from(MASK));
        assert_eq!(db["env"]["USER"], Value::from("me"));
        assert_eq!(db["env"]["NEO4J_AUTH"], Value::from("neo4j/****"));
        assert_eq!(db["env"]["URL"], Value::from("postgres://u:****@h/db"));
        assert_eq!(
            db["command"],
            yaml_serde::from_str::<Value>(
                "[app, --password, '****', --token=****, -u, 'bob:****', --auth, 'neo4j/****']"
            )
            .unwrap()
        );
        assert_eq!(db["shell"], Value::from("PGPASSWORD=**** psql"));
    }

    #[test]
    fn text_shapes() {
        assert_eq!(
            redact("GET http://admin:hunter2@127.0.0.1:80/x answered 500"),
            "GET http://admin:****@127.0.0.1:80/x answered 500"
        );
        assert_eq!(redact("http://user@host/"), "http://user@host/");
        assert_eq!(
            redact("export API_TOKEN='a b' && run --db-password=\"x y\" KEYS=1"),
            "export API_TOKEN='****' && run --db-password=\"****\" KEYS=1"
        );
        assert_eq!(redact("NEO4J_AUTH=neo4j/secret1"), "NEO4J_AUTH=neo4j/****");
        assert_eq!(redact("a = b, c=d"), "a = b, c=d");
    }

    #[test]
    fn the_net_masks_registered_values_but_not_public_words() {
        let v: Value = yaml_serde::from_str(
            "components:\n  postgres:\n    env: { POSTGRES_PASSWORD: postgres, API_TOKEN: \"quo\\\"te-tok\", PW_KEY: abc }\n    description: uses the vault\n",
        )
        .unwrap();
        let found = register(&v, [("DB_SECRET", "from-env-file")]);
        assert!(found.contains(&"from-env-file".to_owned()), "{found:?}");
        // The component's name is public: a password equal to it cannot be hidden by a
        // net, only where its shape shows it.
        assert_eq!(scrub("postgres started"), "postgres started");
        assert_eq!(
            scrub("token quo\"te-tok and from-env-file"),
            "token **** and ****"
        );
        assert_eq!(scrub(r#"{"t":"quo\"te-tok"}"#), r#"{"t":"****"}"#);
        // Too short to hunt for everywhere.
        assert_eq!(scrub("abc"), "abc");
    }
}
