//! PostgreSQL over TLS against a real server: the test makes a CA and a `localhost`
//! server certificate with rcgen, starts its own PostgreSQL with `ssl = on` that accepts
//! only TLS connections over TCP (`hostssl` lines alone in `pg_hba.conf`, password
//! authentication), and checks libpq's meanings of `sslmode` and `sslrootcert`; then
//! restarts it without TLS to check that `prefer` falls back and `require` does not.
//!
//! Runs with the other PostgreSQL tests (`TRACEMARK_TEST_POSTGRES` set) and needs the
//! server's programs (`initdb`, `pg_ctl` in `/usr/lib/postgresql/*/bin`, Debian's
//! `postgresql` package); as root it runs the server as the `postgres` user through
//! `runuser`. Skipped otherwise (a failure under `CI=true`).

#[macro_use]
mod common;

use std::{
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::PathBuf,
    process::Command,
};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tracemark_core::Diagnose;
use tracemark_ledger::{Ledger, LogStore, PostgresStore, StoreError};

/// The superuser's password: characters that must be percent-encoded in a URL.
const PASSWORD: &str = "s3cr%t@pw/?";
const PASSWORD_IN_URL: &str = "s3cr%25t%40pw%2F%3F";
const USER: &str = "tracemark_tls";

/// A certificate authority made for the test.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn make_ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    Ca {
        issuer: Issuer::new(params, key),
        pem,
    }
}

/// A server certificate for `localhost` (and no IP address) issued by `ca`: its PEM
/// and its key's PEM.
fn server_certificate(ca: &Ca) -> (String, String) {
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb` and `pg_ctl`.
fn server_programs() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The uid and gid of a system user, from `id`.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| {
        let out = Command::new("id").args([flag, user]).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// A private PostgreSQL instance in a temporary folder, stopped when dropped (even when
/// the test panics).
struct Server {
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// `Some((uid, gid))` of the `postgres` user when running as root.
    run_as: Option<(u32, u32)>,
    port: u16,
    running: bool,
}

impl Server {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs one of the server's programs, as the `postgres` user when root.
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let mut cmd = match self.run_as {
            Some(_) => {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
                c
            }
            None => Command::new(self.bin.join(program)),
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    /// Writes a file the server reads (owned by it when running as root).
    fn write(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
        }
        path
    }

    /// Makes the cluster: a superuser with a password, and the server's certificate.
    fn init(bin: PathBuf, run_as: Option<(u32, u32)>, cert: &str, key: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let server = Server {
            bin,
            dir,
            run_as,
            port: 0,
            running: false,
        };
        server.write("server.crt", cert, 0o644);
        server.write("server.key", key, 0o600);
        let pwfile = server.write("password", &format!("{PASSWORD}\n"), 0o600);
        let data = server.data();
        let out = server.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                USER,
                &format!("--pwfile={}", pwfile.display()),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        server
    }

    /// Starts the server on a free port, with TLS on or off, and `pg_hba.conf` lines
    /// `hba` for TCP connections.
    fn start(&mut self, ssl: bool, hba: &str) {
        std::fs::write(
            self.data().join("pg_hba.conf"),
            format!("local all all trust\n{hba}"),
        )
        .unwrap();
        for _attempt in 0..5 {
            self.port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let dir = self.dir.path().display().to_string();
            let options = format!(
                "-c listen_addresses=localhost -c port={} -c unix_socket_directories={dir} \
                 -c ssl={} -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key \
                 -c fsync=off -c max_connections=20",
                self.port,
                if ssl { "on" } else { "off" },
            );
            let data = self.data();
            let log = self.path("server.log");
            let out = self.run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-l",
                    log.to_str().unwrap(),
                    "-o",
                    &options,
                    "-w",
                    "start",
                ],
            );
            if out.status.success() {
                self.running = true;
                return;
            }
            // The port may have been taken meanwhile: another one.
            let _ = self.run(
                "pg_ctl",
                &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
            );
        }
        panic!(
            "the test's PostgreSQL did not start: {}",
            std::fs::read_to_string(self.path("server.log")).unwrap_or_default()
        );
    }

    fn stop(&mut self) {
        if self.running {
            let data = self.data();
            let out = self.run(
                "pg_ctl",
                &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
            );
            self.running = !out.status.success();
        }
    }

    /// A URL to this server (`host` given as is) with `query`.
    fn url(&self, host: &str, query: &str) -> String {
        format!(
            "postgres://{USER}:{PASSWORD_IN_URL}@{host}:{}/postgres{query}",
            self.port
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.running {
            let data = self.data();
            let _ = self.run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            );
        }
    }
}

/// The server's programs and the user to run them as, or why the test cannot run.
fn prerequisites() -> Option<(PathBuf, Option<(u32, u32)>)> {
    tracemark_testkit::env_or_skip(
        "TRACEMARK_TEST_POSTGRES",
        "a PostgreSQL URL to run the PostgreSQL tests (this one starts its own server with TLS)",
    )?;
    let Some(bin) = server_programs() else {
        tracemark_testkit::skip(
            "PostgreSQL's server programs (initdb, pg_ctl under /usr/lib/postgresql/*/bin) are not installed",
        );
        return None;
    };
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root {
        return Some((bin, None));
    }
    // PostgreSQL refuses to run as root.
    if !tracemark_testkit::command_or_skip("runuser", "--version") {
        return None;
    }
    match user_ids("postgres") {
        Some(ids) => Some((bin, Some(ids))),
        None => {
            tracemark_testkit::skip(
                "running as root, and there is no `postgres` user to run the server as",
            );
            None
        }
    }
}

fn connect(url: &str) -> Result<PostgresStore, StoreError> {
    PostgresStore::connect_in_schema(url, Some("tls_test"))
}

/// The error of a connection that must fail; it never shows the password.
fn refused(url: &str) -> StoreError {
    let err = match connect(url) {
        Ok(_) => panic!("{} connected", tracemark_ledger::mask_password(url)),
        Err(e) => e,
    };
    let shown = format!("{err} {err:?} {}", err.hint().unwrap_or_default());
    for secret in [PASSWORD, PASSWORD_IN_URL, "s3cr"] {
        assert!(!shown.contains(secret), "the password shows in: {shown}");
    }
    assert!(shown.contains(&format!("{USER}:***@")), "{shown}");
    err
}

/// The log's key, one for the whole test (every connection opens the same log).
fn signer() -> tracemark_ledger::NoteSigner {
    static SIGNER: std::sync::OnceLock<tracemark_ledger::NoteSigner> = std::sync::OnceLock::new();
    SIGNER.get_or_init(common::signer).clone()
}

/// Appends through a log on `store` and reads the records back.
fn append_and_read_back(store: PostgresStore, first: u64) {
    let mut ledger = Ledger::new(store, signer());
    let records: Vec<_> = (first..first + 3).map(common::record).collect();
    let appended = ledger.append_records(&records).unwrap();
    for (a, r) in appended.iter().zip(&records) {
        assert_eq!(&ledger.record(a.index).unwrap(), r);
    }
    let policy = ledger.policy();
    let last = appended.last().unwrap().index;
    ledger.prove(last).unwrap().verify(&policy, None).unwrap();
}

#[test]
fn postgres_over_tls_follows_libpq_sslmodes() {
    let Some((bin, run_as)) = prerequisites() else {
        return;
    };
    let ca = make_ca("Tracemark test CA");
    let wrong_ca = make_ca("Another CA");
    let (cert, key) = server_certificate(&ca);
    let mut server = Server::init(bin, run_as, &cert, &key);
    let ca_file = server.write("ca.pem", &ca.pem, 0o644);
    let wrong_ca_file = server.write("wrong-ca.pem", &wrong_ca.pem, 0o644);
    let ca_q = ca_file.display().to_string();
    let wrong_q = wrong_ca_file.display().to_string();
    server.start(
        true,
        "hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n",
    );

    // verify-full with the right CA: connects, appends and reads back.
    let full = server.url(
        "localhost",
        &format!("?sslmode=verify-full&sslrootcert={ca_q}"),
    );
    append_and_read_back(connect(&full).unwrap(), 0);
    // verify-ca with the right CA, even where the host name is not in the certificate;
    // verify-full there fails on the host name.
    let by_ip = |query: String| server.url("127.0.0.1", &query);
    append_and_read_back(
        connect(&by_ip(format!("?sslmode=verify-ca&sslrootcert={ca_q}"))).unwrap(),
        10,
    );
    let err = refused(&by_ip(format!("?sslmode=verify-full&sslrootcert={ca_q}")));
    assert!(
        matches!(
            err,
            StoreError::Tls {
                mode: "verify-full",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("host name check failed"), "{err}");

    // Another CA: verify-ca and verify-full name the failed chain check, and so does
    // require with that CA given (libpq then checks as verify-ca).
    for mode in ["verify-ca", "verify-full", "require"] {
        let err = refused(&server.url(
            "localhost",
            &format!("?sslmode={mode}&sslrootcert={wrong_q}"),
        ));
        assert!(
            matches!(&err, StoreError::Tls { mode: m, .. } if *m == mode),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("certificate chain check failed") && text.contains("UnknownIssuer"),
            "{text}"
        );
        assert!(text.contains(&wrong_q), "{text}");
    }

    // require without a CA: TLS without a certificate check; prefer (the default) uses
    // TLS when the server offers it (the server accepts nothing else over TCP).
    append_and_read_back(
        connect(&server.url("localhost", "?sslmode=require")).unwrap(),
        20,
    );
    append_and_read_back(connect(&server.url("127.0.0.1", "")).unwrap(), 30);
    append_and_read_back(
        connect(&server.url("localhost", "?sslmode=prefer")).unwrap(),
        40,
    );

    // disable: the server's hostssl-only pg_hba.conf refuses the plaintext connection.
    let err = refused(&server.url("localhost", "?sslmode=disable"));
    assert!(matches!(err, StoreError::Connect { .. }), "{err}");
    assert!(err.to_string().contains("no encryption"), "{err}");
    assert!(err.hint().unwrap().contains("sslmode=prefer"), "{err:?}");

    // The same server without TLS: prefer falls back to plaintext, require refuses it.
    server.stop();
    server.start(
        false,
        "host all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n",
    );
    append_and_read_back(
        connect(&server.url("localhost", "?sslmode=prefer")).unwrap(),
        50,
    );
    append_and_read_back(
        connect(&server.url("localhost", "?sslmode=disable")).unwrap(),
        60,
    );
    let err = refused(&server.url("localhost", "?sslmode=require"));
    assert!(
        matches!(
            err,
            StoreError::Tls {
                mode: "require",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("does not accept TLS"), "{err}");
    let log = connect(&server.url("localhost", "?sslmode=disable")).unwrap();
    assert_eq!(
        log.size().unwrap(),
        21,
        "seven logs of three records, one schema"
    );
}
