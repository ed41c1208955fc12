//! Edits of every layout a loaded file may have, and a property test over generated
//! documents: every edit that the old document allows succeeds and changes exactly its key.

use super::*;

fn edit(text: &str, key: &str, v: &str) -> String {
    set(
        text,
        &KeyPath::parse(key).unwrap(),
        &yaml_serde::from_str(v).unwrap(),
    )
    .unwrap_or_else(|e| panic!("{key} = {v} in {text:?}: {e}"))
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
    assert!(out.contains("  db: {kind: task, command: [y]}\n"), "{out}");
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

/// (document, key, new value, what the edited text holds).
const LAYOUTS: &[(&str, &str, &str, &str)] = &[
    // Anchors and aliases: the aliases keep the old value.
    (
        "base: &b {kind: task, command: [x]}\nc: *b\n",
        "base.kind",
        "process",
        "c: {kind: task, command: [x]}",
    ),
    ("a: &x 4\nb: *x\n", "a", "5", "a: 5\nb: 4\n"),
    ("a: &x 4\nb: *x\n", "b", "5", "a: &x 4\nb: 5\n"),
    (
        "t: &t\n  kind: task\n  command: [x]\nc: *t\n",
        "c.kind",
        "process",
        "c: {kind: process, command: [x]}",
    ),
    ("t: &t\n  k: 1\nc: *t\n", "t.j", "2", "c: {k: 1}"),
    // Merge keys: the merged value is copied with the change.
    (
        "b: &b {p: {tcp: 'h:1', interval: 1s}}\nc:\n  <<: *b\n  d: 1\n",
        "c.p.tcp",
        "'h:2'",
        "  d: 1\n  p: {tcp: h:2, interval: 1s}",
    ),
    (
        "b: &b {k: 1}\nc: {<<: *b}\n",
        "c.k",
        "2",
        "c: {<<: *b, k: 2}",
    ),
    ("b: &b {k: 1}\nc: {<<: *b}\n", "b.k", "2", "c: {<<: {k: 1}}"),
    // Flow collections: multi-line, trailing comma, comments inside, empty.
    (
        "a: {\n  x: 1,\n  y: 2, # two\n}\n",
        "a.z",
        "3",
        "y: 2, z: 3, # two",
    ),
    ("a: {x: 1, }\n", "a.y", "2", "a: {x: 1, y: 2, }"),
    ("a: { }\n", "a.y", "2", "a: {y: 2 }"),
    ("a: [x, y]\n", "a.1", "'z, w'", "a: [x, \"z, w\"]"),
    ("a: {x: 1}\n", "a.x", "'p: q'", "a: {x: \"p: q\"}"),
    // Quoted and explicit keys.
    ("\"a\":\n  'b': 1\n", "a.b", "2", "'b': 2"),
    ("? a\n: {b: 1}\n", "a.c", "2", "{b: 1, c: 2}"),
    ("\"a:b\": 1\n", "a:b", "2", "\"a:b\": 2"),
    // Block scalars and multi-line scalars.
    ("a: |\n  l1\n  l2\n\nb: 1\n", "a", "x", "a: x\n\nb: 1\n"),
    (
        "a: >-  # folded\n  l1\n  l2\nb: 1\n",
        "a",
        "x",
        "a: x\nb: 1\n",
    ),
    ("a: |+\n  l1\n\nb: 1\n", "c", "2", "c: 2"),
    ("m:\n  a: |\n    l1\n", "m.b", "2", "    l1\n  b: 2"),
    ("a: plain\n  continued\nb: 1\n", "a", "x", "a: x\nb: 1\n"),
    ("a: \"q\n  w\"\nb: 1\n", "a", "x", "a: x\nb: 1\n"),
    ("a: 1\n", "a", "\"two\\nlines\"", "a: \"two\\nlines\""),
    // Comments in odd places.
    ("a: # nothing yet\nb: 1\n", "a", "2", "a: 2 # nothing yet"),
    ("a: # the list\n  - x\nb: 1\n", "a", "[y]", "a: [y]\nb: 1"),
    (
        "a:\n  x: 1 # one\n# between\n  y: 2\n",
        "a.z",
        "3",
        "  y: 2\n  z: 3",
    ),
    // Documents with `---` and `...`; a `~` document; tags; tabs.
    ("---\na: 1\n...\n", "b", "2", "a: 1\nb: 2\n..."),
    ("--- # doc\n...\n", "a", "1", "a: 1\n..."),
    ("~\n", "a.b", "1", "{a: {b: 1}}"),
    ("a: !!str 4\n", "a", "5", "a: 5\n"),
    (
        "a: \t1\t# tabs\nb: {x: \t1}\n",
        "a",
        "3",
        "a: \t3\t# tabs\n",
    ),
    (
        "a: \t1\t# tabs\nb: {x: \t1}\n",
        "b.y",
        "2",
        "b: {x: \t1, y: 2}",
    ),
    // Sequences of mappings.
    ("l:\n- n: x\n  v: 1\n", "l.0.w", "2", "  v: 1\n  w: 2"),
    ("l:\n  - &s x\n  - *s\n", "l.0", "y", "- y\n  - x"),
];

/// Layouts that `config set` refused before ("cannot change ... in place").
#[test]
fn every_layout_that_loads_can_be_edited() {
    for (text, key, v, want) in LAYOUTS {
        let out = edit(text, key, v);
        assert!(out.contains(want), "{key} = {v} in {text:?}:\n{out}");
    }
}

/// Text that `yaml_serde` loads but a strict YAML 1.2 reader refuses cannot be edited
/// safely: the refusal says where and what to change.
#[test]
fn a_file_only_a_lenient_reader_accepts_is_refused_with_where_and_why() {
    let text = "a:\n  b: {x: 1,\n  y: 2}\n";
    assert!(load(text).is_ok());
    let e = set(text, &KeyPath::parse("a.c").unwrap(), &Value::from(1)).unwrap_err();
    assert!(matches!(e, EditError::Strict { line: 3, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("line 3, column"), "{msg}");
    assert!(
        msg.contains("invalid indentation in flow construct"),
        "{msg}"
    );
    assert!(msg.contains("indent"), "{msg}");
}

// ---- a property test over generated documents ---------------------------------------

/// Builds a document with random layout choices, remembering which anchors it defined.
struct Gen {
    rng: fastrand::Rng,
    anchors: Vec<String>,
    depth: usize,
}

const KEYS: &[&str] = &["a", "b", "kind", "x.y", "with space", "k", "env", "z1"];

impl Gen {
    fn key(&mut self) -> String {
        let k = KEYS[self.rng.usize(..KEYS.len())];
        match (k.contains(['.', ' ']), self.rng.u8(..4)) {
            (true, _) | (false, 0) => format!("\"{k}\""),
            (false, 1) => format!("'{k}'"),
            _ => k.to_owned(),
        }
    }

    fn scalar(&mut self) -> String {
        match self.rng.u8(..9) {
            0 => "1".into(),
            1 => "true".into(),
            2 => "'single # quoted'".into(),
            3 => "\"double\\tquoted\"".into(),
            4 => "~".into(),
            5 => format!("*{}", self.alias().unwrap_or_else(|| "v".into())),
            _ => "plain".into(),
        }
    }

    fn alias(&mut self) -> Option<String> {
        (!self.anchors.is_empty())
            .then(|| self.anchors[self.rng.usize(..self.anchors.len())].clone())
    }

    fn anchor(&mut self) -> String {
        if self.rng.u8(..4) == 0 {
            let name = format!("n{}", self.anchors.len());
            self.anchors.push(name.clone());
            format!("&{name} ")
        } else {
            String::new()
        }
    }

    fn flow(&mut self, indent: usize) -> String {
        self.depth += 1;
        let out = if self.depth > 3 || self.rng.u8(..3) == 0 {
            let s = self.scalar();
            if s.starts_with('*') || s.contains('#') {
                "x".into()
            } else {
                s
            }
        } else if self.rng.bool() {
            let n = self.rng.usize(..3);
            let items: Vec<String> = (0..n).map(|_| self.flow(indent)).collect();
            let comma = if n > 0 && self.rng.u8(..4) == 0 {
                ", "
            } else {
                ""
            };
            format!("{}[{}{comma}]", self.anchor(), items.join(", "))
        } else {
            let n = self.rng.usize(..3);
            let mut keys = Vec::new();
            let mut items = Vec::new();
            for _ in 0..n {
                let k = self.key();
                if keys.contains(&k.trim_matches(['"', '\'']).to_owned()) {
                    continue;
                }
                keys.push(k.trim_matches(['"', '\'']).to_owned());
                items.push(format!("{k}: {}", self.flow(indent)));
            }
            let multi = self.rng.u8(..4) == 0;
            // Lines inside a flow collection are indented more than the block around it.
            let sep = if multi {
                format!(",\n{}", " ".repeat(indent + 4))
            } else {
                ", ".to_owned()
            };
            format!("{}{{{}}}", self.anchor(), items.join(&sep))
        };
        self.depth -= 1;
        out
    }

    fn value(&mut self, indent: usize) -> String {
        let pad = " ".repeat(indent);
        self.depth += 1;
        let out = match self.rng.u8(..10) {
            _ if self.depth > 3 => format!(" {}", self.scalar()),
            0 => format!(" {}", self.flow(indent)),
            1 => format!(" |\n{pad}  line one\n{pad}  line two\n"),
            2 => format!(" >-   # folded\n{pad}  folded\n{pad}  text\n"),
            3 => format!(" # odd comment\n{pad}  - {}\n{pad}  - x\n", self.scalar()),
            4 => format!("\n{pad}- x\n{pad}- {}\n", self.scalar()),
            5 | 6 => {
                let anchor = self.anchor();
                format!(" {}\n{}", anchor.trim_end(), self.mapping(indent + 2))
            }
            7 => {
                if let Some(a) = self.alias() {
                    format!("\n{pad}  <<: *{a}\n{pad}  k: 1\n")
                } else {
                    " plain\n".into()
                }
            }
            8 => format!(" plain text\n{pad}  on two lines\n"),
            _ => format!(" {}", self.scalar()),
        };
        self.depth -= 1;
        if out.ends_with('\n') {
            out
        } else {
            format!("{out}\n")
        }
    }

    fn mapping(&mut self, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let mut out = String::new();
        let mut seen = Vec::new();
        for _ in 0..=self.rng.usize(..3) {
            let k = self.key();
            let bare = k.trim_matches(['"', '\'']).to_owned();
            if seen.contains(&bare) {
                continue;
            }
            seen.push(bare);
            if self.rng.u8(..6) == 0 {
                out.push_str(&format!("{pad}# a comment\n"));
            }
            if self.rng.u8(..10) == 0 {
                out.push_str(&format!("{pad}? {k}\n{pad}:{}", self.value(indent)));
            } else {
                let sep = if self.rng.u8(..8) == 0 { ": \t" } else { ":" };
                let v = self.value(indent);
                out.push_str(&format!("{pad}{k}{sep}{v}"));
            }
        }
        out
    }

    fn document(&mut self) -> String {
        let body = if self.rng.u8(..6) == 0 {
            self.flow(0) + "\n"
        } else {
            self.mapping(0)
        };
        match self.rng.u8(..6) {
            0 => format!("---\n{body}"),
            1 => format!("--- # doc\n{body}...\n"),
            _ => body,
        }
    }
}

/// Every path of `v`, depth first.
fn walk(v: &Value, at: &KeyPath, all: &mut Vec<KeyPath>) {
    all.push(at.clone());
    match v {
        Value::Mapping(m) => {
            for (k, x) in m {
                if let Some(k) = k.as_str() {
                    walk(x, &at.join(k.to_owned()), all);
                }
            }
        }
        Value::Sequence(s) => {
            for (i, x) in s.iter().enumerate() {
                walk(x, &at.join(i.to_string()), all);
            }
        }
        _ => {}
    }
}

/// Paths to set: existing ones (through aliases and merges too), and new keys under them.
fn targets(v: &Value, rng: &mut fastrand::Rng) -> Vec<KeyPath> {
    let mut out = Vec::new();
    let mut all = Vec::new();
    walk(v, &KeyPath::root(), &mut all);
    for p in &all {
        if !p.is_root() {
            out.push(p.clone());
        }
        if matches!(value::get(v, p), Some(Value::Mapping(_) | Value::Null)) {
            out.push(p.join("new"));
            if rng.bool() {
                out.push(p.join("new").join("deeper"));
            }
        }
    }
    out
}

fn new_value(rng: &mut fastrand::Rng) -> Value {
    let text = match rng.u8(..7) {
        0 => "2",
        1 => "\"two words, # and: more\"",
        2 => "{p: 1, q: [a, b]}",
        3 => "[x, \"y z\"]",
        4 => "\"line\\nbreak\"",
        5 => "~",
        _ => "value",
    };
    yaml_serde::from_str(text).unwrap()
}

#[test]
fn generated_documents_accept_every_edit_they_allow() {
    let seed = std::env::var("TTA_EDIT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_201u64);
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut docs, mut edits) = (0, 0);
    for _ in 0..600 {
        let mut g = Gen {
            rng: fastrand::Rng::with_seed(rng.u64(..)),
            anchors: Vec::new(),
            depth: 0,
        };
        let text = g.document();
        let Ok((_, old)) = load(&text) else {
            continue; // the generator's layout choices can make invalid YAML: skip those
        };
        docs += 1;
        for path in targets(&old, &mut rng) {
            let new = new_value(&mut rng);
            let mut expected = old.clone();
            let allowed = value::set(&mut expected, &path, new.clone()).is_ok();
            match set(&text, &path, &new) {
                Ok(out) => {
                    assert!(
                        allowed,
                        "set under a non-mapping: {path}\n{text}\n---\n{out}"
                    );
                    edits += 1;
                }
                Err(EditError::NotAMapping(_)) if !allowed => {}
                Err(e) => panic!(
                    "seed {seed}: `{path}` = {} refused: {e}\n--- document\n{text}",
                    render(&new, false)
                ),
            }
        }
    }
    eprintln!("seed {seed}: {docs} generated documents loaded, {edits} edits made and checked");
    assert!(
        docs > 300 && edits > 2500,
        "only {docs} documents, {edits} edits"
    );
}
