//! `tta config set`: change one key in the text of a YAML file, keeping everything else.
//!
//! The file is edited as text at the span the source index gives for the key, so comments,
//! key order, quoting and blank lines elsewhere survive byte for byte. Every edit is then
//! checked: the edited text must parse to exactly the old tree with that one key changed.
//! When it would not (an unusual layout), the edit is refused rather than guessed.

use yaml_serde::Value;

use super::keypath::KeyPath;
use super::source::{Node, Shape, SourceIndex};
use super::value::{self, to_inline};

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The file does not parse.
    #[error("the file is not valid YAML: {0}")]
    Syntax(String),
    /// Something that is not a mapping stands on the path.
    #[error("`{0}` is not a mapping, so keys cannot be set under it")]
    NotAMapping(KeyPath),
    /// The layout of the file defeats a safe in-place edit.
    #[error("cannot change `{0}` in place without disturbing the rest of the file")]
    Unsafe(KeyPath),
}

/// Returns `text` with `path` set to `new`.
pub fn set(text: &str, path: &KeyPath, new: &Value) -> Result<String, EditError> {
    let old: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        super::source::check_depth(text).map_err(|e| EditError::Syntax(e.message))?;
        yaml_serde::from_str(text).map_err(|e| EditError::Syntax(e.to_string()))?
    };
    let mut expected = old.clone();
    value::set(&mut expected, path, new.clone()).map_err(EditError::NotAMapping)?;

    let edited = splice(text, &old, path, new)?;
    let got: Value = yaml_serde::from_str(&edited).map_err(|_| EditError::Unsafe(path.clone()))?;
    if got == expected {
        Ok(edited)
    } else {
        Err(EditError::Unsafe(path.clone()))
    }
}

fn splice(text: &str, old: &Value, path: &KeyPath, new: &Value) -> Result<String, EditError> {
    if matches!(old, Value::Null) {
        // An empty (or comment-only) document: append the key as block lines.
        let mut out = text.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&block(path.segments(), new, 0));
        return Ok(out);
    }
    let index = SourceIndex::build(text).map_err(|e| EditError::Syntax(e.message))?;
    if let Some(node) = index.get(path) {
        return Ok(replace(text, node, new));
    }
    // Find the deepest ancestor present in the text, and add the missing keys under it.
    let mut anc = path.parent().unwrap_or_default();
    let node = loop {
        if let Some(n) = index.get(&anc) {
            break *n;
        }
        anc = anc.parent().unwrap_or_default();
    };
    let rest = &path.segments()[anc.segments().len()..];
    let existing = value::get(old, &anc);
    match (node.shape, existing) {
        (Shape::BlockMap, _) => {
            // After the line of the mapping's last entry, at the mapping's indentation.
            let at = line_end(text, node.end.offset);
            let added = block(rest, new, node.start.column - 1);
            Ok(format!(
                "{}\n{}{}",
                &text[..at],
                added.trim_end_matches('\n'),
                &text[at..]
            ))
        }
        (Shape::FlowMap, Some(Value::Mapping(m))) => {
            let close = node.end.offset - 1;
            let sep = if m.is_empty() { "" } else { ", " };
            let before = text[..close].trim_end();
            let space = &text[before.len()..close];
            Ok(format!(
                "{before}{sep}{}{space}{}",
                flow(rest, new),
                &text[close..]
            ))
        }
        (Shape::Scalar, Some(Value::Null)) if node.start.offset < node.end.offset => {
            // `key: ~` or `key: null`: replace with a flow mapping.
            Ok(format!(
                "{}{{{}}}{}",
                &text[..node.start.offset],
                flow(rest, new),
                &text[node.end.offset..]
            ))
        }
        (Shape::Scalar, Some(Value::Null)) => {
            // `key:` with nothing after it: put the mapping on the key's line.
            let at = node
                .key
                .map_or(node.start.offset, |k| line_end(text, k.offset));
            Ok(format!(
                "{} {{{}}}{}",
                text[..at].trim_end_matches(' '),
                flow(rest, new),
                &text[at..]
            ))
        }
        _ => Err(EditError::NotAMapping(anc)),
    }
}

/// Replaces an existing node's value.
fn replace(text: &str, node: &Node, new: &Value) -> String {
    let rendered = to_inline(new);
    match node.shape {
        Shape::BlockMap | Shape::BlockSeq => {
            // A block value starts on the line after its key: put the new value on the key's
            // line instead, and drop the old block.
            let key_end = node.key.map_or(node.start.offset, |k| {
                text[k.offset..node.start.offset]
                    .find(':')
                    .map_or(node.start.offset, |i| k.offset + i + 1)
            });
            format!(
                "{} {rendered}{}",
                &text[..key_end],
                &text[node.end.offset..]
            )
        }
        _ if node.start.offset == node.end.offset => {
            // An empty value (`key:`): write after the colon.
            let at = node
                .key
                .map_or(node.start.offset, |k| line_end(text, k.offset));
            format!(
                "{} {rendered}{}",
                text[..at].trim_end_matches(' '),
                &text[at..]
            )
        }
        _ => format!(
            "{}{rendered}{}",
            &text[..node.start.offset],
            &text[node.end.offset..]
        ),
    }
}

/// The offset of the line break that ends the line holding `offset` (so a trailing comment
/// stays with its line), or the end of the text.
fn line_end(text: &str, offset: usize) -> usize {
    if offset > 0 && text.as_bytes().get(offset - 1) == Some(&b'\n') {
        return offset - 1;
    }
    text[offset..].find('\n').map_or(text.len(), |i| offset + i)
}

/// `a:\n  b: value\n` at `indent`.
fn block(segments: &[String], new: &Value, indent: usize) -> String {
    let mut out = String::new();
    for (i, seg) in segments.iter().enumerate() {
        let pad = " ".repeat(indent + 2 * i);
        let key = to_inline(&Value::String(seg.clone()));
        if i + 1 == segments.len() {
            out.push_str(&format!("{pad}{key}: {}\n", to_inline(new)));
        } else {
            out.push_str(&format!("{pad}{key}:\n"));
        }
    }
    out
}

/// `a: {b: value}`.
fn flow(segments: &[String], new: &Value) -> String {
    let key = to_inline(&Value::String(segments[0].clone()));
    if segments.len() == 1 {
        format!("{key}: {}", to_inline(new))
    } else {
        format!("{key}: {{{}}}", flow(&segments[1..], new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, key: &str, v: &str) -> String {
        set(
            text,
            &KeyPath::parse(key).unwrap(),
            &yaml_serde::from_str(v).unwrap(),
        )
        .unwrap()
    }

    const DOC: &str = "# top comment\ndefaults:\n  jobs: 4   # keep me\n  retry: { attempts: 2 }\n\ncomponents:\n  # the db\n  db:\n    kind: task\n    command: [x]\n";

    #[test]
    fn replaces_a_scalar_keeping_comments() {
        let out = edit(DOC, "defaults.jobs", "8");
        assert_eq!(out, DOC.replace("jobs: 4", "jobs: 8"));
    }

    #[test]
    fn adds_a_key_to_a_block_mapping() {
        let out = edit(DOC, "defaults.start_timeout", "5s");
        assert!(
            out.contains("  retry: { attempts: 2 }\n  start_timeout: 5s\n\ncomponents:"),
            "{out}"
        );
        assert!(out.contains("# keep me") && out.contains("# the db"));
    }

    #[test]
    fn adds_to_a_flow_mapping_and_nested_missing_keys() {
        let out = edit(DOC, "defaults.retry.backoff", "2s");
        assert!(out.contains("retry: { attempts: 2, backoff: 2s }"), "{out}");
        let out = edit(DOC, "components.db.probe.tcp", "'127.0.0.1:1'");
        assert!(
            out.ends_with("    command: [x]\n    probe:\n      tcp: 127.0.0.1:1\n"),
            "{out}"
        );
        let out = edit(DOC, "state_dir", "/tmp/s");
        assert!(
            out.ends_with("    command: [x]\nstate_dir: /tmp/s\n"),
            "{out}"
        );
    }

    #[test]
    fn replaces_block_collections_and_handles_empty_values() {
        let out = edit(DOC, "components.db", "{kind: task, command: [y]}");
        assert!(
            out.contains("  db: {\"command\":[\"y\"],\"kind\":\"task\"}")
                || out.contains("  db: {\"kind\":\"task\",\"command\":[\"y\"]}"),
            "{out}"
        );
        assert_eq!(edit("a:\nb: 1\n", "a.x", "1"), "a: {x: 1}\nb: 1\n");
        assert_eq!(edit("a: ~\n", "a.x", "1"), "a: {x: 1}\n");
        assert_eq!(edit("", "a.b", "1"), "a:\n  b: 1\n");
        assert_eq!(
            edit("# only a comment\n", "a", "1"),
            "# only a comment\na: 1\n"
        );
        assert_eq!(edit("a: 1", "b", "2"), "a: 1\nb: 2");
    }

    #[test]
    fn refuses_to_set_under_a_scalar() {
        assert!(matches!(
            set(
                DOC,
                &KeyPath::parse("defaults.jobs.x").unwrap(),
                &Value::from(1)
            ),
            Err(EditError::NotAMapping(_))
        ));
    }
}
