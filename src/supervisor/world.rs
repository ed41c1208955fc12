//! One loaded configuration as `up` runs it: the settings, the driver of its components,
//! the runner's and the supervisor's policies, and the selection `up` supervises. A reload
//! makes a new one; threads started for a component keep the one they began with, so what
//! did not change keeps running untouched.

use std::path::Path;

use super::policy::Policy;
use crate::config::model::ComponentSpec;
use crate::driver::Stack;
use crate::error::Result;
use crate::graph::{Graph, NodeId, Selection};
use crate::runner::ComponentPolicy;
use crate::settings::Settings;
use crate::state::StateDir;

/// A loaded configuration, ready to run.
pub(crate) struct World {
    pub(super) settings: Settings,
    pub(super) driver: Stack,
    pub(super) policies: Vec<ComponentPolicy>,
    pub(super) supervision: Vec<Policy>,
    pub(super) selection: Selection,
    pub(super) state: StateDir,
}

impl World {
    /// Loads the configuration and selects `names` (none: all) with what they depend on
    /// (unless `no_deps`).
    pub(crate) fn load(config: Option<&Path>, names: &[String], no_deps: bool) -> Result<Self> {
        let settings = Settings::load(config)?;
        let g = settings.graph();
        let sel = g.select(names)?;
        let selection = if no_deps {
            sel
        } else {
            g.with_dependencies(&sel)
        };
        let config = settings.config();
        Ok(Self {
            driver: Stack::new(config, g, settings.path()),
            policies: ComponentPolicy::for_graph(config, g),
            supervision: g
                .names()
                .iter()
                .map(|n| Policy::of(&config.components[n]))
                .collect(),
            state: StateDir::new(&config.state_dir),
            selection,
            settings,
        })
    }

    /// Checks what the selection needs before anything starts (repository folders, an
    /// engine that answers): a broken environment is one error (exit 3).
    pub(crate) fn preflight(&self, everything: bool) -> Result<()> {
        use crate::driver::{Driver as _, Scope};
        let ids: Vec<NodeId> = self.selected();
        let scope = if everything {
            Scope::Everything
        } else {
            Scope::Selected
        };
        self.driver.preflight(&ids, scope)
    }

    /// Refuses a second `tta up` on one state directory (two supervisors would fight over
    /// every restart), and a state directory that cannot be used.
    pub(crate) fn claim(&self) -> Result<()> {
        self.state.ensure()?;
        if let Some(other) = self.state.read_up()
            && other.pid != std::process::id()
        {
            return Err(crate::error::Error::environment(
                format!(
                    "another `tta up` (pid {}) already supervises this stack ({})",
                    other.pid,
                    self.state.root().display()
                ),
                format!(
                    "Ctrl-C it in its terminal (or `kill -INT {}`); `tta status` shows what it does",
                    other.pid
                ),
            ));
        }
        Ok(())
    }

    /// The longest name `up` prints.
    pub(crate) fn widest_name(&self) -> usize {
        self.selected()
            .iter()
            .map(|&i| self.graph().name(i).len())
            .chain([3])
            .max()
            .unwrap_or(3)
    }

    pub(super) fn graph(&self) -> &Graph {
        self.settings.graph()
    }

    pub(super) fn id(&self, name: &str) -> Option<NodeId> {
        self.graph().id(name)
    }

    pub(super) fn spec(&self, id: NodeId) -> &ComponentSpec {
        &self.settings.config().components[self.graph().name(id)]
    }

    /// The selected components, in start order.
    pub(super) fn selected(&self) -> Vec<NodeId> {
        self.graph()
            .start_order()
            .iter()
            .copied()
            .filter(|&i| self.selection[i])
            .collect()
    }
}

/// Whether two specs run the same thing: what `up` would have to restart for. Supervision
/// keys, the description and the edges take effect without a restart.
pub(super) fn same_run(a: &ComponentSpec, b: &ComponentSpec) -> bool {
    let strip = |s: &ComponentSpec| {
        let mut s = s.clone();
        s.supervision = crate::config::model::Supervision::default();
        s.description = None;
        s.depends_on.clear();
        s
    };
    strip(a) == strip(b)
}
