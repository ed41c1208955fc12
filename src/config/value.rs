//! Reading and writing inside a `yaml_serde::Value` tree by [`KeyPath`].

use yaml_serde::{Mapping, Value};

use super::keypath::KeyPath;

/// The value at `path`, if there is one. Sequence items are addressed by index.
pub fn get<'v>(root: &'v Value, path: &KeyPath) -> Option<&'v Value> {
    let mut cur = root;
    for seg in path.segments() {
        cur = match cur {
            Value::Mapping(m) => m.get(seg.as_str())?,
            Value::Sequence(s) => s.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Sets `path` to `value`, creating mappings on the way. Fails (with the path that is in
/// the way) where a non-mapping stands on the path.
pub(crate) fn set(root: &mut Value, path: &KeyPath, value: Value) -> Result<(), KeyPath> {
    let mut cur = root;
    let mut seen = KeyPath::root();
    for seg in path.segments() {
        if matches!(cur, Value::Null) {
            *cur = Value::Mapping(Mapping::new());
        }
        cur = match cur {
            Value::Mapping(m) => m.entry(Value::String(seg.clone())).or_insert(Value::Null),
            Value::Sequence(s) => match seg.parse::<usize>().ok().and_then(|i| s.get_mut(i)) {
                Some(v) => v,
                None => return Err(seen),
            },
            _ => return Err(seen),
        };
        seen = seen.join(seg.clone());
    }
    *cur = value;
    Ok(())
}

/// A value on one line, in YAML flow style, as `config get` prints scalars and `config set`
/// writes them.
pub(crate) fn to_inline(value: &Value) -> String {
    match value {
        Value::Mapping(_) | Value::Sequence(_) => {
            // JSON is valid YAML flow syntax and always fits on one line.
            serde_json::to_string(value).unwrap_or_else(|_| "null".into())
        }
        other => {
            yaml_serde::to_string(other).map_or_else(|_| "null".into(), |s| s.trim_end().to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_set_by_path() {
        let mut v: Value = yaml_serde::from_str("a: { b: [1, 2] }").unwrap();
        let p = KeyPath::parse("a.b.1").unwrap();
        assert_eq!(get(&v, &p), Some(&Value::from(2)));
        set(&mut v, &KeyPath::parse("a.c.d").unwrap(), Value::from("x")).unwrap();
        assert_eq!(v["a"]["c"]["d"], Value::from("x"));
        assert!(set(&mut v, &KeyPath::parse("a.b.x").unwrap(), Value::Null).is_err());
        assert_eq!(to_inline(&Value::from("5s")), "5s");
        assert_eq!(to_inline(&Value::from("true")), "'true'");
        assert_eq!(to_inline(&v["a"]["b"]), "[1,2]");
    }
}
