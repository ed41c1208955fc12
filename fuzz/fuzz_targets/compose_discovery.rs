//! Compose file discovery: reading a repository's `compose.yaml` (with its `.env`, variable
//! interpolation, `extends`, profiles and `depends_on`) the way Compose does, through the
//! public entry point `discover::load_services`, plus `interpolate` and `parse_dotenv`
//! directly.
//!
//! Input: the compose file's text, optionally followed by a NUL byte and the text of the
//! repository's `.env`. Every input must give services or a list of problems.
#![no_main]

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tta::config::model::Repository;
use tta::fuzzing as discover;

fn repo_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary folder"))
        .path()
}

fuzz_target!(|data: &[u8]| {
    let dir = repo_dir();
    let (compose, dotenv) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    std::fs::write(dir.join("compose.yaml"), compose).expect("write compose.yaml");
    let env_file = dir.join(".env");
    match dotenv {
        Some(d) => std::fs::write(&env_file, d).expect("write .env"),
        None => {
            let _ = std::fs::remove_file(&env_file);
        }
    }
    let repo = Repository {
        path: dir.to_path_buf(),
        compose_files: Vec::new(),
        project_name: None,
        profiles: Vec::new(),
        discover: true,
        context: None,
    };
    let env: HashMap<String, String> = [("TAG".to_owned(), "1.0".to_owned())].into();
    let display = |p: &Path| p.display().to_string();
    match discover::load_services(&repo, &env, &display) {
        Ok(services) => {
            let mut names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), services.len(), "a service was read twice");
        }
        Err(problems) => assert!(!problems.is_empty(), "an error without a problem"),
    }
    let vars = dotenv
        .and_then(|d| std::str::from_utf8(d).ok())
        .map(|d| discover::parse_dotenv(d, &env))
        .unwrap_or_default();
    if let Ok(text) = std::str::from_utf8(compose) {
        let _ = discover::interpolate(text, &|k: &str| vars.get(k).cloned());
    }
});
