//! `tta config get|set|save|show|validate|path`.

use std::path::Path;

use serde_json::json;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use yaml_serde::Value;

use crate::cancel::{Cancel, CancelReason};
use crate::cli::ConfigCommand;
use crate::config::keypath::KeyPath;
use crate::config::store::{self, FolderLock, Target};
use crate::config::{edit, locate, secrets, value};
use crate::driver::compose::command::default_project_name;
use crate::error::{Error, Result, exit};
use crate::output::Output;
use crate::settings::Settings;

/// Runs a `tta config` subcommand.
pub(crate) fn run(config: Option<&Path>, cmd: &ConfigCommand, out: &Output) -> Result<u8> {
    match cmd {
        ConfigCommand::Set { key, value } => set(config, key, value, out),
        ConfigCommand::Schema => {
            let mut s = serde_json::to_string_pretty(&crate::config::schema::json_schema())
                .expect("schema serializes");
            s.push('\n');
            out.stdout(&s);
            Ok(exit::OK)
        }
        ConfigCommand::Path => path(config, out),
        ConfigCommand::Get {
            key,
            reveal,
            show_origin,
        } => get(&Settings::load(config)?, key, *reveal, *show_origin, out),
        ConfigCommand::Show { reveal } => {
            let settings = Settings::load(config)?;
            if *reveal {
                secrets::reveal();
            }
            let v = settings.resolved_value();
            print_value(
                out,
                None,
                &if *reveal { v.clone() } else { secrets::mask(v) },
            );
            Ok(exit::OK)
        }
        ConfigCommand::Validate => Ok(validate(&Settings::load(config)?, out)),
        ConfigCommand::Save { path, include_env } => {
            save(&Settings::load(config)?, path.as_deref(), *include_env, out)
        }
    }
}

fn path(config: Option<&Path>, out: &Output) -> Result<u8> {
    let cwd = cwd()?;
    let found = locate(config, &cwd)?;
    if out.json {
        out.json_doc(json!({"path": found}));
    } else if let Some(p) = &found {
        out.stdout(&format!("{}\n", p.display()));
    }
    if found.is_none() {
        out.info("no config file found (looked for ./tta.yaml and ./config/tta.yaml); using the built-in defaults");
        return Ok(exit::FAILED);
    }
    Ok(exit::OK)
}

fn validate(settings: &Settings, out: &Output) -> u8 {
    let c = settings.config();
    let (n, repos) = (settings.graph().len(), c.repositories.len());
    if out.json {
        out.json_doc(json!({
            "valid": true, "path": settings.path(), "components": n, "repositories": repos,
        }));
    } else {
        out.info(&format!(
            "{} is valid: {n} component{}, {repos} repositor{}",
            settings.display_name(),
            if n == 1 { "" } else { "s" },
            if repos == 1 { "y" } else { "ies" }
        ));
    }
    exit::OK
}

fn save(settings: &Settings, path: Option<&Path>, include_env: bool, out: &Output) -> Result<u8> {
    let cancel = interruptible();
    let waiting =
        || out.info("waiting for another tta to finish editing a config file in that folder");
    let target = if include_env {
        let text = yaml_serde::to_string(settings.value())
            .map_err(|e| Error::usage(e.to_string(), None))?;
        let cwd = cwd()?;
        let target = path
            .map(|p| cwd.join(p))
            .or_else(|| settings.path().map(Path::to_path_buf))
            .unwrap_or_else(|| cwd.join("tta.yaml"));
        Settings::from_text(text.clone(), Some(target.clone()), &cwd, std::iter::empty())?;
        settings.save_with(Some(&target), Some(&text), &cancel, waiting)?
    } else {
        settings.save_with(path, None, &cancel, waiting)?
    };
    if out.json {
        out.json_doc(json!({"saved": target}));
    } else {
        out.info(&format!("saved {}", target.display()));
    }
    Ok(exit::OK)
}

/// A cancel that SIGINT, SIGTERM and SIGHUP raise, so that an edit interrupted by one of
/// them ends cleanly: no temporary file left, the file old or new, exit 130 if nothing was
/// written.
fn interruptible() -> Cancel {
    let cancel = Cancel::new();
    match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(mut signals) => {
            let c = cancel.clone();
            std::thread::spawn(move || {
                for _ in signals.forever() {
                    c.cancel(CancelReason::Interrupted);
                }
            });
        }
        Err(e) => tracing::warn!("cannot catch signals during the edit: {e}"),
    }
    cancel
}

fn cwd() -> Result<std::path::PathBuf> {
    std::env::current_dir().map_err(|e| Error::io("read", ".", e))
}

fn get(
    settings: &Settings,
    key: &str,
    reveal: bool,
    show_origin: bool,
    out: &Output,
) -> Result<u8> {
    let (v, origin) = settings.lookup(key, &default_project_name)?;
    if reveal {
        secrets::reveal();
    }
    let shown = match KeyPath::parse(key) {
        _ if reveal => v,
        Ok(k) => secrets::mask_at(&k, &v),
        Err(_) => secrets::mask(&v),
    };
    if !show_origin {
        print_value(out, Some(key), &shown);
    } else if out.json {
        out.json_doc(json!({
            "key": key, "value": shown, "origin": origin.to_string(), "source": origin.kind(),
        }));
    } else {
        let text = match &shown {
            Value::Mapping(_) | Value::Sequence(_) => {
                format!(
                    "{origin}\n{}",
                    yaml_serde::to_string(&shown).unwrap_or_default()
                )
            }
            other => format!("{origin}\t{}\n", scalar_text(other)),
        };
        out.stdout(&text);
    }
    Ok(exit::OK)
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => value::to_inline(other),
    }
}

fn print_value(out: &Output, key: Option<&str>, v: &Value) {
    if out.json {
        let mut doc = json!({"value": v});
        if let Some(k) = key {
            doc["key"] = k.into();
        }
        out.json_doc(doc);
        return;
    }
    let text = match v {
        Value::Mapping(_) | Value::Sequence(_) => yaml_serde::to_string(v).unwrap_or_default(),
        other => format!("{}\n", scalar_text(other)),
    };
    out.stdout(&text);
}

/// `config set` works from the raw text, so that it can also repair an invalid file: the
/// edited text must validate before anything is written. The file's folder stays locked
/// from the read to the write, so concurrent edits all land, one after another.
fn set(config: Option<&Path>, key: &str, raw: &str, out: &Output) -> Result<u8> {
    let cwd = cwd()?;
    let kp = KeyPath::parse(key).map_err(|e| Error::usage(e.to_string(), None))?;
    let new: Value = yaml_serde::from_str(raw).map_err(|e| {
        Error::usage(
            if secrets::is_secret_path(&kp) {
                format!("the value for `{key}` is not valid YAML: {e}")
            } else {
                format!("`{raw}` is not a valid YAML value: {e}")
            },
            Some("quote strings that contain `:` or `#`".into()),
        )
    })?;
    let path = locate(config, &cwd)?.unwrap_or_else(|| cwd.join("tta.yaml"));
    let cancel = interruptible();
    let target = Target::resolve(&path)?;
    let _lock = FolderLock::take(&target, &cancel, || {
        out.info("waiting for another tta to finish editing a config file in that folder");
    })?;
    let (form, text) = target.read()?.unwrap_or_default();
    let edited = edit::set(&text, &kp, &new).map_err(|e| {
        Error::usage(
            format!("cannot set `{key}`: {e}"),
            Some(format!("edit {} by hand", path.display())),
        )
    })?;
    let settings = Settings::from_edit(
        edited,
        path.clone(),
        &cwd,
        crate::config::env::process_vars(),
        &text,
        &kp,
    )?;
    store::write(&target, &form.encode(settings.text()), &cancel)?;
    let saved = path;
    let overridden: Vec<&str> = settings
        .overrides()
        .iter()
        .filter(|o| {
            kp.segments().starts_with(o.path.segments())
                || o.path.segments().starts_with(kp.segments())
        })
        .map(|o| o.var.as_str())
        .collect();
    let shown = secrets::mask_at(&kp, &new);
    if out.json {
        out.json_doc(
            json!({"key": key, "value": shown, "path": saved, "overridden_by": overridden}),
        );
    } else {
        out.info(&format!(
            "set {key} = {} in {}",
            value::to_inline(&shown),
            settings.display_name()
        ));
        for var in overridden {
            out.info(&format!(
                "note: {var} is set in the environment and overrides this key"
            ));
        }
    }
    Ok(exit::OK)
}
