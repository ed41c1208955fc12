//! Where each key of a YAML document stands in its text.
//!
//! `yaml_serde` gives values without positions, so this module reads the same text with
//! `saphyr-parser` (an event parser that reports spans) and records, for every key path,
//! the line and column of the key and the byte range of its value. It serves two purposes:
//! error messages with `file:line:column`, and `tta config set`, which edits the text in
//! place so that comments and key order survive. It is built only when needed (on an error
//! or an edit), so loading a valid file never pays for it.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

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
    /// A scalar on one or more lines, plain or quoted.
    Scalar,
    /// A literal (`|`) or folded (`>`) block scalar: its span starts at the header.
    BlockScalar,
    /// An alias (`*name`) of an anchored node.
    Alias,
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
    /// Where its key ends (the byte after it), for a mapping entry.
    pub key_end: Option<usize>,
    /// Where the value starts, with its anchor and tag.
    pub start: Pos,
    /// Where the value ends (exclusive): for a block collection, the end of its last entry;
    /// for a block scalar, the end of its last line of text.
    pub end: Pos,
    /// What it is.
    pub shape: Shape,
    /// For a block collection: the column (from 0) its entries are indented to.
    pub indent: usize,
    /// It is a flow collection or stands inside one, where `,`, `[`, `]`, `{`, `}` end a
    /// plain scalar.
    pub in_flow: bool,
    /// For a flow mapping: where its last value ends, which is where an entry is added.
    pub last_entry_end: Option<usize>,
    /// Its anchor's id (`&name`), or 0.
    pub anchor: usize,
    /// For an alias, the id of the anchor it refers to.
    pub alias_of: usize,
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
    /// Anchor id → the path of the node it is on.
    anchors: HashMap<usize, KeyPath>,
    /// Every alias: the anchor it refers to and its own path.
    aliases: Vec<(usize, KeyPath)>,
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

    /// Every alias in the document: the anchor it refers to, and its path.
    pub(crate) fn aliases(&self) -> &[(usize, KeyPath)] {
        &self.aliases
    }

    /// Every anchor on a node at `path` or under it.
    pub(crate) fn anchors_under(&self, path: &KeyPath) -> Vec<usize> {
        self.anchors
            .iter()
            .filter(|(_, p)| p.segments().starts_with(path.segments()))
            .map(|(id, _)| *id)
            .collect()
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

    /// The position of a byte offset (on a character boundary) near a known position `at`:
    /// only the text between the two is read, so a large file costs nothing extra.
    fn pos_near(&self, at: Pos, offset: usize) -> Pos {
        let (lo, hi) = (offset.min(at.offset), offset.max(at.offset));
        let lines = self.text[lo..hi].matches('\n').count();
        let line = if offset <= at.offset {
            at.line - lines
        } else {
            at.line + lines
        };
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        Pos {
            line,
            column: self.text[line_start..offset].chars().count() + 1,
            offset,
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
                _ => {
                    return self
                        .node_from((e, span), &KeyPath::root(), None, false)
                        .map(drop);
                }
            }
        }
    }

    /// Records the node that starts with `first` and returns where it ends.
    fn node_from(
        &mut self,
        (first, span): (Event<'t>, Span),
        path: &KeyPath,
        key: Option<(Pos, usize)>,
        in_flow: bool,
    ) -> Result<Pos, Fail> {
        let start = self.offsets.pos(span.start);
        let opening = &self.offsets.text[start.offset..self.offsets.byte(span.end.index())];
        let mut node = Node {
            key: key.map(|k| k.0),
            key_end: key.map(|k| k.1),
            start,
            end: start,
            shape: Shape::Scalar,
            indent: 0,
            in_flow,
            last_entry_end: None,
            anchor: 0,
            alias_of: 0,
        };
        match first {
            Event::MappingStart(anchor, _) => {
                node.anchor = anchor;
                let flow = opening.trim_end().ends_with('{');
                node.in_flow |= flow;
                self.mapping(&mut node, path, flow)?;
            }
            Event::SequenceStart(anchor, _) => {
                node.anchor = anchor;
                let flow = opening.trim_end().ends_with('[');
                node.in_flow |= flow;
                self.sequence(&mut node, path, flow)?;
            }
            Event::Scalar(value, style, anchor, _) => {
                node.anchor = anchor;
                node.end = self.offsets.pos(span.end);
                self.scalar(&mut node, value.is_empty(), style, opening);
            }
            Event::Alias(id) => {
                node.shape = Shape::Alias;
                node.alias_of = id;
                node.end = self.offsets.pos(span.end);
                self.index.aliases.push((id, path.clone()));
            }
            other => return Err((span, format!("unexpected {other:?}"))),
        }
        if node.anchor != 0 {
            self.index.anchors.insert(node.anchor, path.clone());
        }
        self.index.nodes.insert(path.clone(), node);
        Ok(node.end)
    }

    /// The entries of a mapping whose start `node` holds, to its end.
    fn mapping(&mut self, node: &mut Node, path: &KeyPath, flow: bool) -> Result<(), Fail> {
        let mut last = node.start;
        let mut first_key = None;
        while !self.peek_is_end() {
            let (k, kspan) = self.next()?;
            let kpos = self.offsets.pos(kspan.start);
            first_key.get_or_insert(kpos);
            let child = match &k {
                Event::Scalar(s, ..) => path.join(s.to_string()),
                _ => path.join(format!("<complex key at {}:{}>", kpos.line, kpos.column)),
            };
            let kend = if matches!(k, Event::Scalar(..)) {
                self.offsets.byte(kspan.end.index())
            } else {
                self.node_from((k, kspan), &child.join("<key>"), None, node.in_flow)?
                    .offset
            };
            let v = self.next()?;
            last = self.node_from(v, &child, Some((kpos, kend)), node.in_flow)?;
            node.last_entry_end = Some(last.offset);
        }
        let (_, espan) = self.next()?;
        if flow {
            node.shape = Shape::FlowMap;
            node.end = self.offsets.pos(espan.end);
        } else {
            node.shape = Shape::BlockMap;
            node.end = last;
            node.indent = first_key.map_or(node.start.column - 1, |k| {
                entry_column(self.offsets.text, k)
            });
            node.last_entry_end = None;
        }
        Ok(())
    }

    /// The items of a sequence whose start `node` holds, to its end.
    fn sequence(&mut self, node: &mut Node, path: &KeyPath, flow: bool) -> Result<(), Fail> {
        let mut last = node.start;
        let mut i = 0usize;
        while !self.peek_is_end() {
            let v = self.next()?;
            last = self.node_from(v, &path.join(i.to_string()), None, node.in_flow)?;
            i += 1;
        }
        let (_, espan) = self.next()?;
        if flow {
            node.shape = Shape::FlowSeq;
            node.end = self.offsets.pos(espan.end);
        } else {
            node.shape = Shape::BlockSeq;
            node.end = last;
            node.indent = node.start.column - 1;
        }
        Ok(())
    }

    /// A scalar's span: an empty plain scalar has none; a block scalar's starts at its
    /// header and ends with its last line of text.
    fn scalar(&self, node: &mut Node, empty: bool, style: ScalarStyle, opening: &str) {
        let text = self.offsets.text;
        // An empty plain scalar (`key:`, an empty document) has no text of its own,
        // whatever the parser's span covers (a `...` after it).
        if empty && style == ScalarStyle::Plain && !opening.starts_with(['&', '!']) {
            node.end = node.start;
        }
        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            // The span holds the text only: the header (`|-`, with its anchor and tag) is
            // on an earlier line, and trailing blank lines are clipped.
            node.shape = Shape::BlockScalar;
            if let Some(h) = block_header(text, node.start.offset) {
                node.start = self.offsets.pos_near(node.start, h);
            }
            let body = text[..node.end.offset].trim_end_matches([' ', '\t', '\r', '\n']);
            node.end = self
                .offsets
                .pos_near(node.end, body.len().max(node.start.offset));
        }
    }
}

/// The column (from 0) of a block mapping's entries, from its first key: the key's own
/// column, or that of the `?` before an explicit key.
fn entry_column(text: &str, key: Pos) -> usize {
    let line_start = text[..key.offset].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..key.offset].trim_end_matches([' ', '\t']);
    match before.strip_suffix('?') {
        Some(lead) if lead.trim_start_matches([' ', '-']).is_empty() => lead.chars().count(),
        _ => key.column - 1,
    }
}

/// Where the header of a block scalar whose text starts at `content` begins: its indicator
/// (`|`, `>`, with chomping and indentation digits), and the anchor and tag before it on
/// the same line.
fn block_header(text: &str, content: usize) -> Option<usize> {
    let before = text[..content].trim_end_matches([' ', '\t', '\r', '\n']);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = &before[line_start..];
    // Drop a comment: a `#` after whitespace.
    let code = line
        .char_indices()
        .find(|&(i, c)| c == '#' && line[..i].ends_with([' ', '\t']))
        .map_or(line, |(i, _)| &line[..i])
        .trim_end();
    let tokens: Vec<(usize, &str)> = code
        .split([' ', '\t'])
        .scan(0usize, |at, tok| {
            let here = *at;
            *at += tok.len() + 1;
            Some((here, tok))
        })
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let (mut at, header) = *tokens.last()?;
    if !header.starts_with(['|', '>']) {
        return None;
    }
    for &(i, tok) in tokens.iter().rev().skip(1) {
        if tok.starts_with(['&', '!']) {
            at = i;
        } else {
            break;
        }
    }
    Some(line_start + at)
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
