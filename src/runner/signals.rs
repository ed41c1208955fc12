//! Ctrl-C, SIGTERM and SIGHUP (a terminal or ssh session closing): the first cancels
//! gracefully, the second forces. Every command that changes the stack or waits installs
//! this, so it ends the same way whichever signal a session ends with.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::{Cancel, CancelReason};

/// Routes SIGINT, SIGTERM and SIGHUP to `cancel` for the rest of the process's life.
pub(crate) fn install(cancel: &Cancel) {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        tracing::warn!("cannot install the Ctrl-C handler; Ctrl-C will end tta at once");
        return;
    };
    let cancel = cancel.clone();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if cancel.is_cancelled() && cancel.reason() == Some(CancelReason::Interrupted) {
                cancel.force();
            } else {
                cancel.cancel(CancelReason::Interrupted);
            }
        }
    });
}
