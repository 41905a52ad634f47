//! The extension module `tracemark._tracemark`, which the Python package `tracemark`
//! wraps (see `python/tracemark`). Each function here is a thin edge over the facade
//! crate: arguments checked, the GIL released for the work, errors turned into the
//! package's exceptions ([`error`]). Logits arrive as numpy arrays that share the torch
//! tensor's memory and are marked in place ([`marking`]).

mod detect;
mod error;
mod keys;
mod marking;
mod model;
mod provenance;

use pyo3::prelude::*;

#[pymodule]
fn _tracemark(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", tracemark::VERSION)?;
    error::register(m)?;
    m.add_class::<keys::PyTokenizer>()?;
    m.add_class::<keys::PyKey>()?;
    m.add_class::<marking::BatchMarker>()?;
    m.add_class::<marking::Sampler>()?;
    m.add_class::<provenance::PyIndex>()?;
    m.add_class::<provenance::PyLog>()?;
    m.add_class::<provenance::PyAttributor>()?;
    m.add_class::<provenance::PyVerifier>()?;
    m.add_function(wrap_pyfunction!(provenance::sign_credential, m)?)?;
    m.add_function(wrap_pyfunction!(provenance::verify_credential, m)?)?;
    m.add_function(wrap_pyfunction!(provenance::verify_receipt, m)?)?;
    m.add_function(wrap_pyfunction!(provenance::strip_credential, m)?)?;
    m.add_function(wrap_pyfunction!(keys::schemes, m)?)?;
    m.add_function(wrap_pyfunction!(detect::detect, m)?)?;
    m.add_function(wrap_pyfunction!(detect::detect_many, m)?)?;
    m.add_function(wrap_pyfunction!(detect::synthid_g_values, m)?)?;
    m.add_function(wrap_pyfunction!(model::llama2c_to_hf, m)?)?;
    Ok(())
}
