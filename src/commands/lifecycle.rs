//! placeholder
use std::path::Path;
use crate::cli::{StartArgs, StopArgs, RestartArgs};
use crate::error::Result;
use crate::output::Output;
/// x
pub fn start(_c: Option<&Path>, _a: &StartArgs, _o: &Output) -> Result<u8> { Ok(0) }
/// x
pub fn stop(_c: Option<&Path>, _a: &StopArgs, _o: &Output) -> Result<u8> { Ok(0) }
/// x
pub fn restart(_c: Option<&Path>, _a: &RestartArgs, _o: &Output) -> Result<u8> { Ok(0) }
