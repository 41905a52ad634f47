//! TLS for the PostgreSQL backend, with libpq's meanings of `sslmode` and `sslrootcert`
//! (read from the URL's query string), on rustls with the ring provider.
//!
//! | `sslmode` | TLS | certificate check |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | if the server offers it, else plaintext | none; the chain to `sslrootcert` when given |
//! | `require` | always | none; the chain to `sslrootcert` when given (libpq: then as `verify-ca`) |
//! | `verify-ca` | always | the chain to `sslrootcert` (needed); the host name is not checked |
//! | `verify-full` | always | the chain to `sslrootcert` (needed) and the host name |
//!
//! Where this differs from libpq: `sslrootcert` is never looked for in
//! `~/.postgresql/root.crt` nor read from `PGSSLROOTCERT` (name the file in the URL),
//! `sslrootcert=system` is refused, and `prefer` does not retry in plaintext after a TLS
//! handshake that failed (it falls back only when the server declines TLS, which is what
//! the driver does). A key/value connection string (`host=… sslmode=…`) goes to the
//! driver whole: there, `sslmode` is `disable`, `prefer` or `require`, without
//! certificate checks.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{
    database_url::{mask_password, take_tls_params},
    store::StoreError,
};

/// libpq's `sslmode` values this backend supports (`allow` is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// What the driver does with the connection: no TLS, TLS if offered, or TLS.
    fn driver_mode(self) -> postgres::config::SslMode {
        match self {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        }
    }
}

impl std::fmt::Display for SslMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a connection string asks to connect: the driver's configuration (without the
/// TLS parameters) and the TLS settings.
pub(crate) struct Target {
    pub config: postgres::Config,
    pub mode: SslMode,
    pub root_cert: Option<PathBuf>,
    /// The connection string with its password masked, for messages.
    pub shown: String,
}

impl Target {
    /// Reads a `postgres://` URL (or a libpq key/value string, which the driver reads
    /// whole). Errors name the URL with its password masked.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let shown = mask_password(url);
        let bad = |reason: String| StoreError::Url {
            url: shown.clone(),
            reason,
        };
        let (driver_url, params) = take_tls_params(url).map_err(bad)?;
        let mut config: postgres::Config = driver_url
            .parse()
            .map_err(|e: postgres::Error| bad(error_text(&e)))?;
        let mode = match params.sslmode.as_deref() {
            Some(value) => SslMode::parse(value).ok_or_else(|| {
                bad(format!(
                    "sslmode `{value}` is not one of disable, prefer, require, verify-ca, verify-full"
                ))
            })?,
            // A key/value string: what the driver read (its modes all have libpq's names).
            None => match config.get_ssl_mode() {
                postgres::config::SslMode::Disable => SslMode::Disable,
                postgres::config::SslMode::Require => SslMode::Require,
                _ => SslMode::Prefer,
            },
        };
        config.ssl_mode(mode.driver_mode());
        let root_cert = match params.sslrootcert {
            None => None,
            Some(v) if v.is_empty() => return Err(bad("sslrootcert is empty".into())),
            Some(v) if v == "system" => {
                return Err(bad(
                    "sslrootcert=system (the system's trusted roots) is not supported: name a CA certificate file (PEM)"
                        .into(),
                ));
            }
            Some(v) => Some(PathBuf::from(v)),
        };
        if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root_cert.is_none() {
            return Err(bad(format!(
                "sslmode={mode} checks the server's certificate against a CA: give its certificate file as sslrootcert=PATH (PEM)"
            )));
        }
        Ok(Self {
            config,
            mode,
            root_cert,
            shown,
        })
    }

    /// The TLS connector for the driver (unused with `disable`).
    pub fn connector(&self) -> Result<MakeRustlsConnect, StoreError> {
        // ring, which rcgen already brings into the workspace (rustls deprecates ring's
        // provider since 0.23.48 for its lack of post-quantum key exchange; aws-lc-rs
        // would add a C and CMake build).
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Backend(format!("TLS set-up: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = match &self.root_cert {
            None => Arc::new(NoCertificateCheck(provider)),
            Some(path) => {
                let roots = Arc::new(self.load_roots(path)?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| StoreError::Url {
                        url: self.shown.clone(),
                        reason: format!("sslrootcert {}: {e}", path.display()),
                    })?;
                if self.mode == SslMode::VerifyFull {
                    webpki
                } else {
                    Arc::new(ChainOnly(webpki))
                }
            }
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn load_roots(&self, path: &Path) -> Result<RootCertStore, StoreError> {
        let bad = |reason: String| StoreError::Url {
            url: self.shown.clone(),
            reason: format!("sslrootcert {}: {reason}", path.display()),
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(format!("cannot be read: {e}")))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("is not a PEM file of certificates: {e}")))?;
        if certs.is_empty() {
            return Err(bad("holds no PEM certificate".into()));
        }
        let mut roots = RootCertStore::empty();
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| bad(format!("holds a certificate that cannot be a CA: {e}")))?;
        }
        Ok(roots)
    }

    /// A connection error, saying which TLS check failed when one did.
    pub fn explain(&self, error: &postgres::Error) -> StoreError {
        let tls = |reason: String| StoreError::Tls {
            url: self.shown.clone(),
            mode: self.mode.as_str(),
            reason,
        };
        let root = || {
            self.root_cert
                .as_ref()
                .map_or_else(String::new, |p| format!(" ({})", p.display()))
        };
        if let Some(e) = find_rustls_error(error) {
            return tls(match e {
                rustls::Error::InvalidCertificate(c) => match c {
                    CertificateError::UnknownIssuer => format!(
                        "the certificate chain check failed: the server's certificate is not issued by the CA in sslrootcert{} ({e})",
                        root()
                    ),
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. } => format!(
                        "the host name check failed: the server's certificate does not name the host connected to; \
                         verify-full checks it, verify-ca only the chain ({e})"
                    ),
                    CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                        format!(
                            "the validity check failed: the server's certificate has expired ({e})"
                        )
                    }
                    CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                        format!(
                            "the validity check failed: the server's certificate is not valid yet ({e})"
                        )
                    }
                    _ => format!("the server's certificate was refused ({e})"),
                },
                _ => format!("the TLS handshake failed: {e}"),
            });
        }
        let text = error_text(error);
        if text.contains("server does not support TLS") {
            return tls(
                "the server does not accept TLS connections (sslmode=require and stronger need it; its postgresql.conf needs ssl = on)"
                    .into(),
            );
        }
        if text.contains("TLS") {
            return tls(text);
        }
        StoreError::Connect {
            url: self.shown.clone(),
            reason: text,
        }
    }
}

/// A driver error's text with its causes: the driver shows only its kind ("db error",
/// "invalid connection string") and keeps the reason in `source`.
pub(crate) fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// The rustls error under a driver error, if the TLS handshake failed in rustls.
fn find_rustls_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        // tokio-rustls reports rustls's error inside an io::Error, whose `source` skips it.
        if let Some(found) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// `require` and `prefer` without `sslrootcert`: libpq checks no certificate. The
/// handshake's signatures are still verified, so the session is with the holder of the
/// certificate's key (which channel binding relies on).
#[derive(Debug)]
struct NoCertificateCheck(Arc<CryptoProvider>);

impl ServerCertVerifier for NoCertificateCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` (and `require` or `prefer` with `sslrootcert`): the chain to the roots,
/// its validity and purpose are checked as for `verify-full`, the host name is not.
/// rustls's verifier checks the chain first and the name last, so a name error means
/// that everything else passed.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(url: &str) -> String {
        match Target::parse(url) {
            Ok(_) => panic!("{url} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn modes_and_root_certificates_are_read_from_the_url() {
        let t =
            Target::parse("postgres://tm:pw@db/x?sslmode=verify-ca&sslrootcert=%2Fca.pem").unwrap();
        assert_eq!(t.mode, SslMode::VerifyCa);
        assert_eq!(t.root_cert.as_deref(), Some(Path::new("/ca.pem")));
        assert_eq!(
            t.shown,
            "postgres://tm:***@db/x?sslmode=verify-ca&sslrootcert=%2Fca.pem"
        );
        assert_eq!(t.config.get_ssl_mode(), postgres::config::SslMode::Require);
        assert_eq!(t.config.get_password(), Some(&b"pw"[..]));
        let t = Target::parse("postgres://db/x").unwrap();
        assert_eq!((t.mode, t.root_cert), (SslMode::Prefer, None));
        let t = Target::parse("postgres://db/x?sslmode=disable&application_name=a").unwrap();
        assert_eq!(t.mode, SslMode::Disable);
        assert_eq!(t.config.get_application_name(), Some("a"));
        let t = Target::parse("host=db sslmode=require password=pw").unwrap();
        assert_eq!(t.mode, SslMode::Require);
        assert_eq!(t.shown, "host=db sslmode=require password=***");
    }

    #[test]
    fn bad_tls_parameters_are_clear_errors_without_the_password() {
        for (url, says) in [
            (
                "postgres://tm:hunter2@db/x?sslmode=allow",
                "sslmode `allow` is not one of",
            ),
            (
                "postgres://tm:hunter2@db/x?sslmode=verify-full",
                "give its certificate file as sslrootcert",
            ),
            (
                "postgres://tm:hunter2@db/x?sslmode=verify-ca&sslrootcert=",
                "sslrootcert is empty",
            ),
            (
                "postgres://tm:hunter2@db/x?sslmode=require&sslrootcert=system",
                "not supported",
            ),
            ("postgres://tm:hunter2@db/x?sslcert=a.pem", "unknown option"),
        ] {
            let err = error_of(url);
            assert!(err.contains(says), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.contains("postgres://tm:***@db/x"), "{err}");
        }
    }

    #[test]
    fn unreadable_or_empty_root_certificates_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        for (path, says) in [
            (&missing, "cannot be read"),
            (&empty, "holds no PEM certificate"),
        ] {
            let url = format!(
                "postgres://tm:hunter2@db/x?sslmode=verify-full&sslrootcert={}",
                path.display()
            );
            let err = Target::parse(&url)
                .unwrap()
                .connector()
                .err()
                .unwrap()
                .to_string();
            assert!(
                err.contains(says) && err.contains(&path.display().to_string()),
                "{err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
