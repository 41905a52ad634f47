//! The versioned formats this build writes, as `tracemark --version` lists them.

/// `(format id, what it is)` for everything Tracemark persists or exchanges.
pub const WRITTEN: &[(&str, &str)] = &[
    ("tracemark.watermark-key/v1", "watermark key (JSON, secret)"),
    (
        "tracemark.signing-key/v1",
        "signing identity (JSON) beside PKCS#8 and X.509 PEM files",
    ),
    (
        "tracemark.log-key/v1",
        "log checkpoint key (JSON, secret) beside a C2SP signed-note verifier key",
    ),
    (
        "tracemark.service-key/v1",
        "service key (JSON, secret) beside a C2SP signed-note verifier key",
    ),
    (
        tracemark_policy::REPORT_FORMAT,
        "evidence report (JSON, sealed; v1 still verified)",
    ),
    (
        crate::attribute::SIGNED_RESULT_V1,
        "signed service result (JSON)",
    ),
    ("tracemark.toml", "configuration (TOML)"),
];

/// The multi-line form for `--version`.
pub fn long_version() -> String {
    let mut text = format!("{}\nformats written:", crate::VERSION);
    for (id, what) in WRITTEN {
        text.push_str(&format!("\n  {id:<30} {what}"));
    }
    text
}
