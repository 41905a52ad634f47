//! The report's files, for the front ends that write them (the pipelines themselves
//! take and give bytes).

use std::path::{Path, PathBuf};

use tracemark_core::keyfile::{self, Replace, Secrecy};
use tracemark_policy::EvidenceReport;

use crate::{Error, Result};

/// Writes `NAME.json` and `NAME.html` into `dir` (each through a temporary file).
pub fn write_report(report: &EvidenceReport, dir: &Path, name: &str) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: "create",
        path: dir.to_owned(),
        source,
    })?;
    let json = dir.join(format!("{name}.json"));
    let html = dir.join(format!("{name}.html"));
    let write = |path: &Path, text: String| {
        keyfile::write_file(path, text.as_bytes(), Secrecy::Public, Replace::Yes)
    };
    write(&json, report.to_json_pretty())?;
    write(&html, tracemark_policy::render_html(report))?;
    Ok((json, html))
}
