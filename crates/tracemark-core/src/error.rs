//! How failures are classified, so that every front end reports them the same way.
//!
//! Library crates define their own error enums (`thiserror`); each implements [`Diagnose`]
//! so that the command line can choose an exit status and print a fix, and the server an
//! HTTP status, without knowing the crate.

use serde::Serialize;

/// Whose side a failure is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The request itself is wrong: a missing flag, a conflicting option, a file that
    /// would be overwritten. The CLI exits with status 2.
    Usage,
    /// The request is well formed but what it points at is not usable: a corrupt or
    /// truncated file, a key of the wrong kind, invalid UTF-8. The CLI exits with status 3.
    Input,
    /// Tracemark itself failed. The CLI exits with status 4.
    Internal,
}

impl Fault {
    /// The process exit status for this fault (0 and 1 are success and a negative verdict).
    pub fn exit_code(self) -> u8 {
        match self {
            Fault::Usage => 2,
            Fault::Input => 3,
            Fault::Internal => 4,
        }
    }
}

/// An error that knows whose fault it is and what the user can do about it.
pub trait Diagnose: std::error::Error {
    fn fault(&self) -> Fault;

    /// What to do to fix it, when there is something to do.
    fn hint(&self) -> Option<String> {
        None
    }
}
