//! Tracemark's errors as Python exceptions, with the message and the fix the CLI prints.
//!
//! Every error becomes one of three classes by its [`Fault`] (the CLI's exit statuses 2,
//! 3 and 4), all under `TracemarkError`. The exception's text is what the CLI writes
//! after `error:` (the fix on its own line), and its `message`, `fix` and `fault`
//! attributes carry the parts for programs.

use pyo3::{create_exception, exceptions::PyException, prelude::*};
use tracemark::core::{Diagnose, Fault};

create_exception!(
    tracemark,
    TracemarkError,
    PyException,
    "An error from Tracemark; `message`, `fix` and `fault` say what and how to fix it."
);
create_exception!(
    tracemark,
    UsageError,
    TracemarkError,
    "The request is wrong: a missing or conflicting argument, a file that would be overwritten."
);
create_exception!(
    tracemark,
    InputError,
    TracemarkError,
    "What the request points at is unusable: a corrupt file, a key of the wrong kind."
);
create_exception!(
    tracemark,
    InternalError,
    TracemarkError,
    "Tracemark itself failed."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("TracemarkError", py.get_type::<TracemarkError>())?;
    m.add("UsageError", py.get_type::<UsageError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}

/// The Python exception for a Tracemark error.
pub fn to_py(error: impl Into<tracemark::Error>) -> PyErr {
    let error = error.into();
    let parts = Parts {
        message: error.to_string(),
        fix: error.hint(),
        fault: error.fault(),
    };
    parts.into_exception()
}

/// A usage error raised by the bindings themselves (an argument Python allowed through).
pub fn usage(message: impl Into<String>, fix: impl Into<String>) -> PyErr {
    Parts {
        message: message.into(),
        fix: Some(fix.into()),
        fault: Fault::Usage,
    }
    .into_exception()
}

/// An error as JSON, in the shape of the CLI's `--json` errors, for results that carry
/// one error per item instead of raising.
pub fn to_json(error: impl Into<tracemark::Error>) -> serde_json::Value {
    let error = error.into();
    serde_json::json!({"error": {
        "message": error.to_string(),
        "fix": error.hint(),
        "fault": fault_name(error.fault()),
    }})
}

fn fault_name(fault: Fault) -> &'static str {
    match fault {
        Fault::Usage => "usage",
        Fault::Input => "input",
        Fault::Internal => "internal",
    }
}

struct Parts {
    message: String,
    fix: Option<String>,
    fault: Fault,
}

impl Parts {
    fn into_exception(self) -> PyErr {
        let text = match &self.fix {
            Some(fix) => format!("{}\n  fix: {fix}", self.message),
            None => self.message.clone(),
        };
        let err = match self.fault {
            Fault::Usage => UsageError::new_err(text),
            Fault::Input => InputError::new_err(text),
            Fault::Internal => InternalError::new_err(text),
        };
        Python::attach(|py| {
            let value = err.value(py);
            // Setting attributes on a fresh exception instance cannot fail in practice;
            // if it did, the exception would still carry the whole text.
            let _ = value.setattr("message", &self.message);
            let _ = value.setattr("fix", &self.fix);
            let _ = value.setattr("fault", fault_name(self.fault));
        });
        err
    }
}
