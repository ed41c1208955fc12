//! The dependency graph of the enabled components: cycles, orders, closures, renderings.

mod dag;
mod render;

pub use dag::{Edge, Graph, NodeId, Selection};
pub use render::{Format, render};
