//! placeholder
/// x
pub struct Orchestrator;
