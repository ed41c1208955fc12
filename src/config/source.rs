//! Where each key of a YAML document stands in its text.
//!
//! `yaml_serde` gives values without positions, so this module reads the same text with
//! `saphyr-parser` (an event parser that reports spans) and records, for every key path,
//! the line and column of the key and the byte range of its value. It serves two purposes:
//! error messages with `file:line:column`, and `tta config set`, which edits the text in
//! place so that comments and key order survive. It is built only when needed (on an error
//! or an edit), so loading a valid file never pays for it.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};

use super::keypath::KeyPath;

/// A position in the text: 1-based line and column, and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// Byte offset into the text.
    pub offset: usize,
}

/// The shape of a node, as far as editing needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A scalar or an alias.
    Scalar,
    /// A block mapping (`key: value` lines).
    BlockMap,
    /// A flow mapping (`{a: 1}`).
    FlowMap,
    /// A block sequence (`- item` lines).
    BlockSeq,
    /// A flow sequence (`[a, b]`).
    FlowSeq,
}

/// One node of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Node {
    /// Where its key stands, for a mapping entry.
    pub key: Option<Pos>,
    /// Where the value starts.
    pub start: Pos,
    /// Where the value ends (exclusive): for a block collection, the end of its last entry.
    pub end: Pos,
    /// What it is.
    pub shape: Shape,
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Where.
    pub pos: Pos,
    /// What the parser said.
    pub message: String,
}

/// Key path to node, for one document.
#[derive(Debug, Default)]
pub(crate) struct SourceIndex {
    nodes: HashMap<KeyPath, Node>,
}

impl SourceIndex {
    /// Indexes the first document of `text`.
    pub(crate) fn build(text: &str) -> Result<Self, SyntaxError> {
        let mut b = Builder {
            events: Parser::new_from_str(text).peekable(),
            offsets: CharOffsets::new(text),
            index: SourceIndex::default(),
        };
        b.document().map_err(|(span, message)| SyntaxError {
            pos: b.offsets.pos(span.start),
            message,
        })?;
        Ok(b.index)
    }

    /// The node at `path`, if the text has it.
    pub(crate) fn get(&self, path: &KeyPath) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// The node at `path` or, failing that, at its nearest ancestor that the text has.
    pub(crate) fn nearest(&self, path: &KeyPath) -> Option<&Node> {
        let mut p = Some(path.clone());
        while let Some(q) = p {
            if let Some(n) = self.nodes.get(&q) {
                return Some(n);
            }
            p = q.parent();
        }
        None
    }

    /// The position to report for `path`: its key if it has one, else its value.
    pub(crate) fn position(&self, path: &KeyPath) -> Option<Pos> {
        self.nearest(path).map(|n| n.key.unwrap_or(n.start))
    }
}

/// The deepest nesting of collections a file may use (`yaml_serde`'s own limit).
pub(crate) const MAX_DEPTH: usize = 128;

/// Refuses text that nests collections deeper than [`MAX_DEPTH`], at once. `yaml_serde`
/// refuses such text too, but only after reading every event of the document, and its
/// scanner slows with each open flow level: 20 MB of `[` took minutes. A count of brackets
/// says whether the exact check (the streaming parser, which stops at the limit) is needed,
/// so an ordinary file costs one pass over its bytes.
pub(crate) fn check_depth(text: &str) -> Result<(), SyntaxError> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest <= MAX_DEPTH {
        return Ok(());
    }
    let mut depth = 0usize;
    for event in Parser::new_from_str(text) {
        // An error before the limit is reported as it is: handing such text to `yaml_serde`
        // would be just as slow.
        let event = event.map_err(|e| SyntaxError {
            pos: CharOffsets::new(text).pos(*e.marker()),
            message: e.info().to_owned(),
        })?;
        match event {
            (Event::SequenceStart(..) | Event::MappingStart(..), span) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SyntaxError {
                        pos: CharOffsets::new(text).pos(span.start),
                        message: format!("collections nested more than {MAX_DEPTH} levels deep"),
                    });
                }
            }
            (Event::SequenceEnd | Event::MappingEnd, _) => depth = depth.saturating_sub(1),
            (Event::StreamEnd, _) => break,
            _ => {}
        }
    }
    Ok(())
}

/// Converts saphyr's character indices to byte offsets.
struct CharOffsets<'t> {
    text: &'t str,
    /// Byte offset of each character, only for non-ASCII text.
    table: Option<Vec<usize>>,
}

impl<'t> CharOffsets<'t> {
    fn new(text: &'t str) -> Self {
        let table = (!text.is_ascii()).then(|| {
            let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            v.push(text.len());
            v
        });
        Self { text, table }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            None => char_index.min(self.text.len()),
            Some(t) => t.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    fn pos(&self, m: saphyr_parser::Marker) -> Pos {
        Pos {
            line: m.line(),
            column: m.col() + 1,
            offset: self.byte(m.index()),
        }
    }
}

type Events<'t> = std::iter::Peekable<Parser<'t, saphyr_parser::StrInput<'t>>>;
type Fail = (Span, String);

struct Builder<'t> {
    events: Events<'t>,
    offsets: CharOffsets<'t>,
    index: SourceIndex,
}

impl<'t> Builder<'t> {
    fn next(&mut self) -> Result<(Event<'t>, Span), Fail> {
        match self.events.next() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => {
                let m = *e.marker();
                Err((Span::new(m, m), e.info().to_owned()))
            }
            None => Err((Span::default(), "unexpected end of input".to_owned())),
        }
    }

    fn peek_is_end(&mut self) -> bool {
        matches!(
            self.events.peek(),
            Some(Ok((Event::MappingEnd | Event::SequenceEnd, _)))
        )
    }

    fn document(&mut self) -> Result<(), Fail> {
        loop {
            let (e, span) = self.next()?;
            match e {
                Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => {}
                Event::StreamEnd | Event::DocumentEnd => return Ok(()),
                _ => return self.node_from((e, span), &KeyPath::root(), None).map(drop),
            }
        }
    }

    /// Records the node that starts with `first` and returns where it ends.
    fn node_from(
        &mut self,
        (first, span): (Event<'t>, Span),
        path: &KeyPath,
        key: Option<Pos>,
    ) -> Result<Pos, Fail> {
        let start = self.offsets.pos(span.start);
        let text = self.offsets.text;
        let (shape, end) = match first {
            Event::MappingStart(..) => {
                let flow = text[start.offset..].starts_with('{');
                let mut last = start;
                while !self.peek_is_end() {
                    let (k, kspan) = self.next()?;
                    let kpos = self.offsets.pos(kspan.start);
                    let child = match &k {
                        Event::Scalar(s, ..) => path.join(s.to_string()),
                        _ => path.join(format!("<complex key at {}:{}>", kpos.line, kpos.column)),
                    };
                    if !matches!(k, Event::Scalar(..)) {
                        self.node_from((k, kspan), &child.join("<key>"), None)?;
                    }
                    let v = self.next()?;
                    last = self.node_from(v, &child, Some(kpos))?;
                }
                let (_, espan) = self.next()?;
                if flow {
                    (Shape::FlowMap, self.offsets.pos(espan.end))
                } else {
                    (Shape::BlockMap, last)
                }
            }
            Event::SequenceStart(..) => {
                let flow = text[start.offset..].starts_with('[');
                let mut last = start;
                let mut i = 0usize;
                while !self.peek_is_end() {
                    let v = self.next()?;
                    last = self.node_from(v, &path.join(i.to_string()), None)?;
                    i += 1;
                }
                let (_, espan) = self.next()?;
                if flow {
                    (Shape::FlowSeq, self.offsets.pos(espan.end))
                } else {
                    (Shape::BlockSeq, last)
                }
            }
            Event::Scalar(..) | Event::Alias(_) => (Shape::Scalar, self.offsets.pos(span.end)),
            other => return Err((span, format!("unexpected {other:?}"))),
        };
        self.index.nodes.insert(
            path.clone(),
            Node {
                key,
                start,
                end,
                shape,
            },
        );
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# c\na:\n  b: 1   # x\n  c: [1, 2]\n  é: {x: y}\nd:\n- x\n- y\n";

    fn idx() -> SourceIndex {
        SourceIndex::build(DOC).unwrap()
    }

    fn kp(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    #[test]
    fn keys_have_lines_and_columns() {
        let i = idx();
        let b = i.get(&kp("a.b")).unwrap();
        assert_eq!(b.key.map(|p| (p.line, p.column)), Some((3, 3)));
        assert_eq!(&DOC[b.start.offset..b.end.offset], "1");
        let c = i.get(&kp("a.c")).unwrap();
        assert_eq!(c.shape, Shape::FlowSeq);
        assert_eq!(&DOC[c.start.offset..c.end.offset], "[1, 2]");
        let e = i.get(&kp("a.é")).unwrap();
        assert_eq!(&DOC[e.start.offset..e.end.offset], "{x: y}");
        assert_eq!(i.get(&kp("d.1")).unwrap().start.line, 8);
        assert_eq!(i.get(&kp("a")).unwrap().shape, Shape::BlockMap);
    }

    #[test]
    fn nearest_falls_back_to_the_parent() {
        assert_eq!(idx().position(&kp("a.zz")).map(|p| p.line), Some(2));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let e = SourceIndex::build("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.line >= 1, "{e:?}");
    }

    #[test]
    fn deep_nesting_is_refused_at_once_where_it_passes_the_limit() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(check_depth(&ok).is_ok());
        assert!(check_depth(&format!("a: \"{}\"\n", "[".repeat(1000))).is_ok());
        let t = std::time::Instant::now();
        // The parser's own limits may stop it first; either way it stops near the top.
        let e = check_depth(&"[\n".repeat(1_000_000)).unwrap_err();
        assert!(e.pos.line <= 2 * MAX_DEPTH, "{e:?}");
        assert!(check_depth(&"{a: ".repeat(1_000_000)).is_err());
        assert!(check_depth(&"[".repeat(1_000_000)).is_err());
        assert!(check_depth(&"{".repeat(1_000_000)).is_err());
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
