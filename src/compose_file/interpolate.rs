//! Compose's variable interpolation and `.env` files, as far as discovery needs them.
//!
//! Supported, as in Compose: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty),
//! `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (an error), `${VAR:+alt}` /
//! `${VAR+alt}`, nested templates inside defaults, and `$$` for a literal `$`. An unset
//! variable without a default becomes the empty string, as Compose does (with a warning).
//! A `$` followed by anything else is kept as is. The same rules serve `tta`'s own
//! configuration ([`interpolate_reporting`]), which can also leave an unset variable as
//! written, for a shell to expand.

use std::collections::HashMap;

/// Where variables come from: the process environment first, then the `.env` file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    process: HashMap<String, String>,
    dotenv: HashMap<String, String>,
}

impl Vars {
    /// Variables of the process environment only.
    pub(crate) fn new(process: HashMap<String, String>) -> Self {
        Self {
            process,
            dotenv: HashMap::new(),
        }
    }

    /// The same process environment with another `.env` file's variables behind it.
    #[must_use]
    pub(crate) fn with_dotenv(&self, dotenv: HashMap<String, String>) -> Self {
        Self {
            process: self.process.clone(),
            dotenv,
        }
    }

    /// A variable's value: the process environment wins over the `.env` file.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.process
            .get(name)
            .or_else(|| self.dotenv.get(name))
            .map(String::as_str)
    }
}

/// Replaces every template in `s`. `Err` says what is wrong, as a lowercase fragment.
pub fn interpolate(s: &str, vars: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut unset = Unset {
        keep: false,
        names: Vec::new(),
    };
    expand(s, vars, &mut unset)
}

/// [`interpolate`], also returning the variables that were unset where no default applied
/// (so the caller can warn, as Compose does). With `keep_unset`, such a `$NAME` or
/// `${NAME}` stays as written instead of becoming empty: a shell will expand it later.
pub(crate) fn interpolate_reporting(
    s: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    keep_unset: bool,
) -> Result<(String, Vec<String>), String> {
    let mut unset = Unset {
        keep: keep_unset,
        names: Vec::new(),
    };
    let out = expand(s, vars, &mut unset)?;
    Ok((out, unset.names))
}

/// What to do with a variable that is unset where no default applies.
struct Unset {
    /// Leave the template as written.
    keep: bool,
    /// The names met.
    names: Vec<String>,
}

impl Unset {
    /// The value of a plain `$NAME` or `${NAME}` (`written`).
    fn plain(&mut self, name: &str, value: Option<String>, written: &str) -> String {
        value.unwrap_or_else(|| {
            self.names.push(name.to_owned());
            if self.keep {
                written.to_owned()
            } else {
                String::new()
            }
        })
    }
}

fn expand(
    s: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    unset: &mut Unset,
) -> Result<String, String> {
    if !s.contains('$') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body)
                .ok_or_else(|| format!("`${{` without a closing `}}` in `{s}`"))?;
            out.push_str(&braced(&body[..end], vars, unset)?);
            rest = &body[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                out.push('$');
                rest = after;
            } else {
                let name = &after[..len];
                out.push_str(&unset.plain(name, vars(name), &rest[i..=i + len]));
                rest = &after[len..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The length of the variable name at the start of `s`.
fn name_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first()
        .is_none_or(|c| !(c.is_ascii_alphabetic() || *c == b'_'))
    {
        return 0;
    }
    b.iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count()
}

/// The index of the `}` that closes a `${`, counting nested `${ ... }`.
fn closing_brace(body: &str) -> Option<usize> {
    let b = body.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The value of the inside of `${...}`.
fn braced(
    inner: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    unset: &mut Unset,
) -> Result<String, String> {
    let len = name_len(inner);
    if len == 0 {
        return Err(format!(
            "`${{{inner}}}` does not start with a variable name"
        ));
    }
    let (name, op) = inner.split_at(len);
    let value = vars(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let mut arg = |n: usize| expand(&op[n..], vars, unset);
    match op.as_bytes() {
        [] => Ok(unset.plain(name, value, &format!("${{{inner}}}"))),
        [b':', b'-', ..] => Ok(if non_empty {
            value.unwrap_or_default()
        } else {
            arg(2)?
        }),
        [b'-', ..] => Ok(if set {
            value.unwrap_or_default()
        } else {
            arg(1)?
        }),
        [b':', b'+', ..] => Ok(if non_empty { arg(2)? } else { String::new() }),
        [b'+', ..] => Ok(if set { arg(1)? } else { String::new() }),
        [b':', b'?', ..] | [b'?', ..] => {
            let colon = op.starts_with(':');
            let ok = if colon { non_empty } else { set };
            if ok {
                Ok(value.unwrap_or_default())
            } else {
                let msg = arg(if colon { 2 } else { 1 })?;
                let what = if colon { "unset or empty" } else { "unset" };
                Err(if msg.is_empty() {
                    format!("required variable {name} is {what}")
                } else {
                    format!("required variable {name} is {what}: {msg}")
                })
            }
        }
        _ => Err(format!("`${{{inner}}}` is not a valid template")),
    }
}

/// Parses a `.env` file: `KEY=VALUE` lines, `#` comments, an optional `export `, single
/// quotes (literal), double quotes (with `\n`, `\"`, `\\` and interpolation) and bare values
/// (interpolated, a ` #` starts a comment). Values may refer to earlier lines and to `vars`.
pub fn parse_dotenv<S: std::hash::BuildHasher>(
    text: &str,
    process: &HashMap<String, String, S>,
) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || name_len(key) != key.len() {
            continue;
        }
        let raw = raw.trim();
        let lookup = |n: &str| process.get(n).or_else(|| out.get(n)).cloned();
        let value = if let Some(v) = raw.strip_prefix('\'') {
            v.strip_suffix('\'').unwrap_or(v).to_owned()
        } else if let Some(v) = raw.strip_prefix('"') {
            let v = v.strip_suffix('"').unwrap_or(v);
            let unescaped = v
                .replace("\\n", "\n")
                .replace("\\\"", "\"")
                .replace("\\\\", "\\");
            interpolate(&unescaped, &lookup).unwrap_or(unescaped)
        } else {
            let v = raw.split(" #").next().unwrap_or(raw).trim_end();
            interpolate(v, &lookup).unwrap_or_else(|_| v.to_owned())
        };
        out.insert(key.to_owned(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Result<String, String> {
        let vars: HashMap<&str, &str> = [("SET", "value"), ("EMPTY", ""), ("PORT", "8080")].into();
        interpolate(s, &|n| vars.get(n).map(|v| (*v).to_owned()))
    }

    #[test]
    fn templates_follow_compose() {
        assert_eq!(run("a $SET b").unwrap(), "a value b");
        assert_eq!(run("${SET}x").unwrap(), "valuex");
        assert_eq!(run("${UNSET}").unwrap(), "");
        assert_eq!(run("${UNSET:-d}").unwrap(), "d");
        assert_eq!(run("${EMPTY:-d}").unwrap(), "d");
        assert_eq!(run("${EMPTY-d}").unwrap(), "");
        assert_eq!(run("${UNSET-d}").unwrap(), "d");
        assert_eq!(run("${SET:+alt}").unwrap(), "alt");
        assert_eq!(run("${EMPTY:+alt}").unwrap(), "");
        assert_eq!(run("${EMPTY+alt}").unwrap(), "alt");
        assert_eq!(run("$$SET and $$").unwrap(), "$SET and $");
        assert_eq!(
            run("127.0.0.1:${P:-${PORT}}:80").unwrap(),
            "127.0.0.1:8080:80"
        );
        assert_eq!(run("${UNSET:-a}${UNSET:-b}").unwrap(), "ab");
        assert_eq!(run("cost $5").unwrap(), "cost $5");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            run("${UNSET:?set it}").unwrap_err(),
            "required variable UNSET is unset or empty: set it"
        );
        assert_eq!(run("${EMPTY?x}").unwrap(), "");
        assert!(run("${SET").unwrap_err().contains("without a closing"));
        assert!(run("${1}").unwrap_err().contains("variable name"));
        assert!(
            run("${SET*x}")
                .unwrap_err()
                .contains("not a valid template")
        );
    }

    #[test]
    fn dotenv_files_parse() {
        let process: HashMap<String, String> = [("HOME".to_owned(), "/h".to_owned())].into();
        let env = parse_dotenv(
            "# c\nA=1\nexport B = two # comment\nC='lit $A'\nD=\"x\\ny $A\"\nE=${HOME}/e\nbad line\n",
            &process,
        );
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "two");
        assert_eq!(env["C"], "lit $A");
        assert_eq!(env["D"], "x\ny 1");
        assert_eq!(env["E"], "/h/e");
        assert_eq!(env.len(), 5);
    }
}
