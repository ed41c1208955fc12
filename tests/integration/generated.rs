use crate::harness::Stack;

/// The checked-in generated files match what the binary generates now.
#[test]
fn generated_files_are_current() {
    let s = Stack::empty();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (args, file) in [
        (&["completions", "bash"][..], "completions/tta.bash"),
        (&["completions", "zsh"][..], "completions/_tta"),
        (&["completions", "fish"][..], "completions/tta.fish"),
        (&["man"][..], "docs/tta.1"),
        (&["config", "schema"][..], "docs/tta.schema.json"),
    ] {
        let now = s.tta(args).ok().stdout.clone();
        let checked_in = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        assert!(
            now == checked_in,
            "{file} is out of date: regenerate it with `cargo run -q -- {} > {file}`",
            args.join(" ")
        );
    }
}

#[test]
fn the_schema_accepts_the_shipped_examples_keys() {
    let s = Stack::empty();
    let schema: serde_json::Value = s.tta(&["config", "schema"]).ok().json();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(
        schema["properties"]["components"]["additionalProperties"]["properties"]["probe"]
            .is_object()
    );
}
