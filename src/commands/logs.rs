//! placeholder
use std::path::Path;
use crate::cli::LogsArgs;
use crate::error::Result;
use crate::output::Output;
/// x
pub fn run(_c: Option<&Path>, _a: &LogsArgs, _o: &Output) -> Result<u8> { Ok(0) }
