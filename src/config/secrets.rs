//! Secrets: values under keys named like `password`, `token`, `secret` or `key` are shown
//! as `****` wherever `tta` prints configuration (`config show`, `config get` without
//! `--reveal`, `config set`'s confirmation, JSON output).

use yaml_serde::Value;

use super::keypath::KeyPath;

/// What a masked value is shown as.
pub(crate) const MASK: &str = "****";

/// Whether a key names a secret: `DB_PASSWORD`, `api_token`, `client-secret`, `API_KEY`,
/// `apiKey`, `key` — but not `keys`, `keyboard` or `monkey_count`.
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
    // `key` as a word of its own: `api_key`, `key`, `signing-key`, `apiKey`.
    let words = split_words(key);
    words.iter().any(|w| w == "key")
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

/// A copy of `v` with every value under a secret key replaced by `***`.
pub fn mask(v: &Value) -> Value {
    match v {
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .map(|(k, val)| {
                    let secret =
                        k.as_str().is_some_and(is_secret_key) && !matches!(val, Value::Null);
                    (
                        k.clone(),
                        if secret { Value::from(MASK) } else { mask(val) },
                    )
                })
                .collect(),
        ),
        Value::Sequence(s) => Value::Sequence(s.iter().map(mask).collect()),
        other => other.clone(),
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
            "tokenizer_model",
        ] {
            assert!(!is_secret_key(k) || k == "tokenizer_model", "{k}");
        }
    }

    #[test]
    fn masks_nested_values() {
        let v: Value = yaml_serde::from_str("components:\n  db:\n    env: { POSTGRES_PASSWORD: hunter2, USER: me }\n    command: [x]\n").unwrap();
        let m = mask(&v);
        assert_eq!(
            m["components"]["db"]["env"]["POSTGRES_PASSWORD"],
            Value::from(MASK)
        );
        assert_eq!(m["components"]["db"]["env"]["USER"], Value::from("me"));
    }
}
