//! The globs of `watch:`: `*` (within a folder), `**` (any folders), `?`, `[abc]`, `[a-z]`
//! and `[!x]`, matched against paths relative to the component's folder. A pattern with no
//! glob character names a file or a folder (and everything in it). Also: the folder to
//! watch for a pattern (its part before the first glob character).

use std::path::{Path, PathBuf};

/// One `watch:` entry, anchored at a folder.
#[derive(Debug, Clone)]
pub(super) struct Glob {
    pattern: String,
    /// The folder a change must be under for the pattern to match it (watched recursively).
    pub(super) base: PathBuf,
    root: PathBuf,
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

impl Glob {
    /// `pattern` relative to `root` (an absolute pattern stays as it is).
    pub(super) fn new(pattern: &str, root: &Path) -> Self {
        let full = crate::config::parse::normalize(&root.join(pattern));
        let text = full.to_string_lossy().into_owned();
        let literal: PathBuf = full
            .components()
            .take_while(|c| !has_magic(&c.as_os_str().to_string_lossy()))
            .collect();
        let base = if has_magic(&text) {
            literal
        } else {
            // A file: watch its folder; a folder: itself.
            if full.is_dir() {
                full.clone()
            } else {
                full.parent()
                    .map_or_else(|| full.clone(), Path::to_path_buf)
            }
        };
        Self {
            pattern: text,
            base,
            root: root.to_path_buf(),
        }
    }

    /// Whether a change at `path` (absolute) is one this entry watches.
    pub(super) fn matches(&self, path: &Path) -> bool {
        let p = path.to_string_lossy();
        if !has_magic(&self.pattern) {
            return path == Path::new(&self.pattern) || path.starts_with(Path::new(&self.pattern));
        }
        let _ = &self.root;
        matches(self.pattern.as_bytes(), p.as_bytes())
    }
}

/// Whether `text` matches the glob `pat`.
fn matches(pat: &[u8], text: &[u8]) -> bool {
    match pat.first() {
        None => text.is_empty(),
        Some(b'*') if pat.get(1) == Some(&b'*') => {
            // `**/` matches any folders (also none); `**` at the end, anything.
            let rest = &pat[2..];
            let rest = rest.strip_prefix(b"/").unwrap_or(rest);
            (0..=text.len()).any(|i| {
                (i == 0 || text[i - 1] == b'/') && matches(rest, &text[i..]) || rest.is_empty()
            })
        }
        Some(b'*') => (0..=text.len())
            .take_while(|&i| i == 0 || text[i - 1] != b'/')
            .any(|i| matches(&pat[1..], &text[i..])),
        Some(b'?') => text.first().is_some_and(|&c| c != b'/') && matches(&pat[1..], &text[1..]),
        Some(b'[') => {
            let Some(end) = pat.iter().skip(1).position(|&c| c == b']').map(|e| e + 1) else {
                return text.first() == Some(&b'[') && matches(&pat[1..], &text[1..]);
            };
            let Some(&c) = text.first() else { return false };
            let class = &pat[1..end];
            let (negate, class) = match class.first() {
                Some(b'!' | b'^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= (class[i]..=class[i + 2]).contains(&c);
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negate && c != b'/' && matches(&pat[end + 1..], &text[1..])
        }
        Some(&p) => text.first() == Some(&p) && matches(&pat[1..], &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_shells_and_gitignore_do() {
        let root = Path::new("/r");
        let g = |p: &str, path: &str| Glob::new(p, root).matches(Path::new(path));
        assert!(g("src/**/*.py", "/r/src/a.py"));
        assert!(g("src/**/*.py", "/r/src/x/y/a.py"));
        assert!(!g("src/**/*.py", "/r/src/a.pyc"));
        assert!(!g("src/*.py", "/r/src/x/a.py"), "* stays within a folder");
        assert!(g("*.toml", "/r/Cargo.toml"));
        assert!(g("src/**", "/r/src/deep/file"));
        assert!(g("a?c.[ch]", "/r/abc.h"));
        assert!(!g("a?c.[!ch]", "/r/abc.h"));
        assert!(g("[a-c]x", "/r/bx"));
        assert!(
            g("config", "/r/config/app.yaml"),
            "a folder and what is in it"
        );
        assert!(g("app.yaml", "/r/app.yaml"));
        assert!(!g("app.yaml", "/r/app.yaml.swp"));
        assert_eq!(Glob::new("src/**/*.py", root).base, Path::new("/r/src"));
        assert_eq!(Glob::new("../other/*.rs", root).base, Path::new("/other"));
    }
}
