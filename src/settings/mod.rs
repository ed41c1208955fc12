//! The loaded stack definition: the config file with its environment overrides, the compose
//! services discovered in the repositories, every cross-check, and the dependency graph
//! (the specification's `TTAConfig`). Everything that runs a stack starts from a
//! [`Settings`].

mod cache;
mod discover;
mod files;
mod load;
mod variables;

pub(crate) use discover::apply as discover;
pub use load::Settings;

#[cfg(test)]
mod tests;
