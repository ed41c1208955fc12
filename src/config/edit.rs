//! `tta config set`: change one key in the text of a YAML file, keeping everything else.
//!
//! The file is edited as text at the span the source index gives for the key, so comments,
//! key order, quoting and blank lines elsewhere survive byte for byte. Every layout that
//! loads can be edited: block and flow collections (multi-line, trailing commas, comments
//! inside), quoted and explicit (`? key`) keys, block scalars (`|`, `>`), multi-line plain
//! and quoted scalars, anchors and aliases, merge keys, tags, `---` and `...`, comments in
//! odd places, tabs as separators.
//!
//! - A key the text has: its value's span is replaced (a block collection from the key's
//!   colon on).
//! - A key the text lacks: an entry is added to the deepest mapping on the path that the
//!   text has, at its indentation (or inside its braces); a value that a merge key
//!   (`<<: *base`) gives there is copied with the change, so the rest of it is kept.
//! - A path through an alias (`b: *a`, then `b.x`): the alias becomes a copy of its value
//!   with the change, so the anchored node and its other aliases keep their values.
//! - A change to an anchored node (or inside one) would change every alias of it: those
//!   aliases become copies of the old value first.
//!
//! Every edit is then checked: the edited text must load (merge keys applied, as the loader
//! does) to exactly the old configuration with that one key changed. When it would not, the
//! edit is refused rather than guessed.

use yaml_serde::Value;

use super::keypath::KeyPath;
use super::source::{Node, Shape, SourceIndex};
use super::value;

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The file does not parse.
    #[error("the file is not valid YAML: {0}")]
    Syntax(String),
    /// The file loads, but a strict YAML 1.2 reading (which the edit needs, for the
    /// position of each key) refuses it at this place.
    #[error(
        "line {line}, column {column}: {message}; the file loads, but tta edits only text that reads the same strictly (YAML 1.2). Fix that place (a flow collection's lines, for one, must be indented more than its key), then set the key again"
    )]
    Strict {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What the strict reader said.
        message: String,
    },
    /// Something that is not a mapping stands on the path.
    #[error("`{0}` is not a mapping, so keys cannot be set under it")]
    NotAMapping(KeyPath),
    /// The edited text would not load as the old configuration with only that key changed.
    #[error(
        "cannot change `{0}` in place: the edited file would read differently elsewhere (an unusual layout around that key)"
    )]
    Unsafe(KeyPath),
}

/// The document as the loader reads it: aliases resolved, merge keys applied.
fn load(text: &str) -> Result<(Value, Value), String> {
    if text.trim().is_empty() {
        return Ok((Value::Null, Value::Null));
    }
    super::source::check_depth(text).map_err(|e| e.message)?;
    let raw: Value = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    let mut merged = raw.clone();
    merged.apply_merge().map_err(|e| e.to_string())?;
    Ok((raw, merged))
}

/// Returns `text` with `path` set to `new`.
pub fn set(text: &str, path: &KeyPath, new: &Value) -> Result<String, EditError> {
    let (raw, old) = load(text).map_err(EditError::Syntax)?;
    let mut expected = old.clone();
    value::set(&mut expected, path, new.clone()).map_err(EditError::NotAMapping)?;
    let edited = Splice {
        text,
        raw: &raw,
        old: &old,
    }
    .edit(path, new)?;
    match load(&edited) {
        Ok((_, got)) if got == expected => Ok(edited),
        _ => Err(EditError::Unsafe(path.clone())),
    }
}

/// One planned change of the text: replace `start..end` with `with`.
struct Change {
    start: usize,
    end: usize,
    with: String,
}

struct Splice<'a> {
    text: &'a str,
    /// The old document as parsed (aliases resolved, merge keys kept).
    raw: &'a Value,
    /// The old document as loaded (merge keys applied).
    old: &'a Value,
}

impl Splice<'_> {
    fn edit(&self, path: &KeyPath, new: &Value) -> Result<String, EditError> {
        let index = SourceIndex::build(self.text).map_err(|e| EditError::Strict {
            line: e.pos.line,
            column: e.pos.column,
            message: e.message,
        })?;
        let found = deepest(&index, path).filter(|(anc, node)| {
            // An empty document has an empty scalar at its root: no text to replace.
            !(anc.is_root()
                && node.shape == Shape::Scalar
                && self.text[node.start.offset..node.end.offset]
                    .trim()
                    .is_empty())
        });
        let Some((anc, node)) = found else {
            return Ok(self.empty_document(path, new));
        };
        let rest = &path.segments()[anc.segments().len()..];
        let (change, replaced) = self.change(&anc, &node, rest, new)?;
        let mut changes = vec![change];
        changes.extend(self.unshare(&index, &anc, replaced));
        apply(self.text, changes).ok_or_else(|| EditError::Unsafe(path.clone()))
    }

    /// The change at `node` (at `anc`), for the `rest` of the path below it; and whether
    /// the node's whole text is replaced (so anchors inside it go).
    fn change(
        &self,
        anc: &KeyPath,
        node: &Node,
        rest: &[String],
        new: &Value,
    ) -> Result<(Change, bool), EditError> {
        if rest.is_empty() {
            return Ok((replace(self.text, node, new), true));
        }
        let here = value::get(self.old, anc).cloned().unwrap_or(Value::Null);
        match (node.shape, &here) {
            (Shape::BlockMap, Value::Mapping(_)) => {
                Ok((self.add_block(anc, node, rest, new), false))
            }
            (Shape::FlowMap, Value::Mapping(m)) => {
                Ok((self.add_flow(anc, node, m.is_empty(), rest, new), false))
            }
            // An alias, a `~`, an empty value, or a collection the text spells otherwise:
            // the whole value, with the change.
            (_, Value::Mapping(_) | Value::Null | Value::Sequence(_)) => {
                let mut whole = here;
                value::set(&mut whole, &KeyPath::from(rest.to_vec()), new.clone())
                    .map_err(|_| EditError::NotAMapping(anc.clone()))?;
                Ok((replace(self.text, node, &whole), true))
            }
            _ => Err(EditError::NotAMapping(anc.clone())),
        }
    }

    /// The value a new entry `rest[0]` of the mapping at `anc` gets: the value a merge key
    /// gives it there (if any) with the change, or the change alone.
    fn entry_value(&self, anc: &KeyPath, rest: &[String], new: &Value) -> Option<Value> {
        let merged = value::get(self.old, &anc.join(rest[0].clone()))?;
        let mut v = merged.clone();
        value::set(&mut v, &KeyPath::from(rest[1..].to_vec()), new.clone()).ok()?;
        Some(v)
    }

    /// A new entry at the end of a block mapping, on its own line at its indentation.
    fn add_block(&self, anc: &KeyPath, node: &Node, rest: &[String], new: &Value) -> Change {
        let lines = match self.entry_value(anc, rest, new) {
            Some(v) => format!(
                "{}{}: {}",
                " ".repeat(node.indent),
                render_key(&rest[0], false),
                render(&v, false)
            ),
            None => block(rest, new, node.indent)
                .trim_end_matches('\n')
                .to_owned(),
        };
        let at = line_end(self.text, node.end.offset);
        Change {
            start: at,
            end: at,
            with: format!("\n{lines}"),
        }
    }

    /// A new entry inside a flow mapping, after its last value.
    fn add_flow(
        &self,
        anc: &KeyPath,
        node: &Node,
        empty: bool,
        rest: &[String],
        new: &Value,
    ) -> Change {
        let entry = match self.entry_value(anc, rest, new) {
            Some(v) => format!("{}: {}", render_key(&rest[0], true), render(&v, true)),
            None => flow(rest, new),
        };
        let (at, sep) = match node.last_entry_end {
            Some(at) if !empty => (at, ", "),
            _ => {
                let brace = self.text[node.start.offset..node.end.offset]
                    .find('{')
                    .map_or(node.start.offset, |i| node.start.offset + i + 1);
                (brace, "")
            }
        };
        Change {
            start: at,
            end: at,
            with: format!("{sep}{entry}"),
        }
    }

    /// Aliases that would see the change (of an anchored node on the path, or of one inside
    /// a node whose text is replaced) become copies of the old value first.
    fn unshare(&self, index: &SourceIndex, anc: &KeyPath, replaced: bool) -> Vec<Change> {
        let mut anchors: Vec<usize> = Vec::new();
        let mut p = Some(anc.clone());
        while let Some(q) = p {
            if let Some(n) = index.get(&q)
                && n.anchor != 0
            {
                anchors.push(n.anchor);
            }
            p = q.parent();
        }
        if replaced {
            anchors.extend(index.anchors_under(anc));
        }
        let mut changes = Vec::new();
        for (id, at) in index.aliases() {
            if !anchors.contains(id) || (replaced && at.segments().starts_with(anc.segments())) {
                continue;
            }
            let (Some(node), Some(v)) = (index.get(at), value::get(self.raw, at)) else {
                continue;
            };
            changes.push(Change {
                start: node.start.offset,
                end: node.end.offset,
                with: render(v, node.in_flow),
            });
        }
        changes
    }

    /// An empty document (or only `~`): the key as block lines, or in place of the `~`.
    fn empty_document(&self, path: &KeyPath, new: &Value) -> String {
        let text = self.text;
        let lines = block(path.segments(), new, 0);
        // Before a closing `...`, which ends the document.
        let end_marker = text
            .match_indices("\n...")
            .map(|(i, _)| i + 1)
            .chain(text.starts_with("...").then_some(0))
            .filter(|&i| {
                text[i + 3..]
                    .trim_start_matches([' ', '\t'])
                    .starts_with(['\n', '#'])
                    || text[i + 3..].trim().is_empty()
            })
            .last();
        if let Some(at) = end_marker {
            return format!("{}{lines}{}", &text[..at], &text[at..]);
        }
        let mut out = text.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&lines);
        out
    }
}

/// The deepest node on `path` that the text has, with its path.
fn deepest(index: &SourceIndex, path: &KeyPath) -> Option<(KeyPath, Node)> {
    let mut p = Some(path.clone());
    while let Some(q) = p {
        if let Some(n) = index.get(&q) {
            // A `~` at the root is no mapping to add to: the whole document is replaced.
            return Some((q, *n));
        }
        p = q.parent();
    }
    None
}

/// Applies changes (which must not overlap) from the end of the text back.
fn apply(text: &str, mut changes: Vec<Change>) -> Option<String> {
    changes.sort_by_key(|c| std::cmp::Reverse((c.start, c.end)));
    let mut out = text.to_owned();
    let mut limit = text.len();
    for c in changes {
        if c.end > limit || c.start > c.end {
            return None;
        }
        out.replace_range(c.start..c.end, &c.with);
        limit = c.start;
    }
    Some(out)
}

/// Replaces a node's value, with its anchor and tag, by `new`.
fn replace(text: &str, node: &Node, new: &Value) -> Change {
    let rendered = render(new, node.in_flow);
    let after_colon = || {
        node.key_end
            .and_then(|k| text[k..].find(':').map(|i| k + i + 1))
    };
    match node.shape {
        Shape::BlockMap | Shape::BlockSeq => {
            // A block value starts on the line after its key: put the new value on the key's
            // line instead, and drop the old block.
            match after_colon() {
                Some(colon) => Change {
                    start: colon,
                    end: node.end.offset,
                    with: format!(" {rendered}"),
                },
                None => Change {
                    start: node.start.offset,
                    end: node.end.offset,
                    with: rendered,
                },
            }
        }
        _ if node.start.offset == node.end.offset => match after_colon() {
            // An empty value (`key:`, perhaps with a comment after it): right after the colon.
            Some(colon) => Change {
                start: colon,
                end: colon,
                with: format!(" {rendered}"),
            },
            None => Change {
                start: node.start.offset,
                end: node.end.offset,
                with: rendered,
            },
        },
        _ => Change {
            start: node.start.offset,
            end: node.end.offset,
            with: rendered,
        },
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
        let key = render_key(seg, false);
        if i + 1 == segments.len() {
            out.push_str(&format!("{pad}{key}: {}\n", render(new, false)));
        } else {
            out.push_str(&format!("{pad}{key}:\n"));
        }
    }
    out
}

/// `a: {b: value}`.
fn flow(segments: &[String], new: &Value) -> String {
    let key = render_key(&segments[0], true);
    if segments.len() == 1 {
        format!("{key}: {}", render(new, true))
    } else {
        format!("{key}: {{{}}}", flow(&segments[1..], new))
    }
}

fn render_key(key: &str, in_flow: bool) -> String {
    render(&Value::String(key.to_owned()), in_flow)
}

/// A value on one line: scalars as YAML writes them (quoted when they must be, and as a
/// double-quoted string when they hold line breaks or, inside a flow collection, flow
/// indicators), collections in flow style.
pub(crate) fn render(value: &Value, in_flow: bool) -> String {
    match value {
        Value::Mapping(m) => {
            let entries: Option<Vec<String>> = m
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(_) | Value::Number(_) | Value::Bool(_) => render(k, true),
                        _ => return None,
                    };
                    Some(format!("{key}: {}", render(v, true)))
                })
                .collect();
            match entries {
                Some(e) => format!("{{{}}}", e.join(", ")),
                None => serde_json::to_string(value).unwrap_or_else(|_| "null".into()),
            }
        }
        Value::Sequence(s) => {
            let items: Vec<String> = s.iter().map(|v| render(v, true)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::String(s) => {
            let plain = yaml_serde::to_string(value)
                .map_or_else(|_| "null".into(), |r| r.trim_end().to_owned());
            let risky = s.chars().any(char::is_control)
                || plain.contains('\n')
                || (in_flow
                    && (plain.contains([',', '[', ']', '{', '}', '#']) || plain.contains(": ")));
            if risky {
                serde_json::to_string(s).unwrap_or(plain)
            } else {
                plain
            }
        }
        other => {
            yaml_serde::to_string(other).map_or_else(|_| "null".into(), |s| s.trim_end().to_owned())
        }
    }
}

#[cfg(test)]
mod tests;
