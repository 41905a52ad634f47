//! The RFC 3161 time-stamp client against a real time-stamp authority that the test
//! starts: `openssl ts -reply` (with a TSA key and certificate made here, extended key
//! usage `timeStamping`) behind a small HTTP server on 127.0.0.1, and behind rustls for
//! `https://`; then against servers that misbehave (errors, garbage, a wrong content
//! type, endless and oversized bodies, a foreign token). Skipped with a note when the
//! `openssl` command is missing (a failure under `CI=true`).

mod common;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    path::Path,
    process::Command,
    sync::{Arc, Mutex},
    thread::JoinHandle,
};

use common::{Identity, TEXT_1K, spec};
use tracemark_core::fact::CredentialState;
use tracemark_credentials::{
    CredentialError, MediaFormat, SignOptions, SigningAlgorithm, TrustAnchors, Verifier,
    sign_media, sign_sidecar, sign_text_embedded,
};

const EXT: &str = "[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[tsa]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
";

fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A time-stamp authority: a root, a TSA certificate it issued, and OpenSSL's `ts`
/// configuration for them.
struct Authority {
    dir: tempfile::TempDir,
}

impl Authority {
    /// `None` (after a skip note) when `openssl` is missing.
    fn new() -> Option<Self> {
        if !tracemark_testkit::command_or_skip("openssl", "version") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("ext.cnf"), EXT).unwrap();
        let ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
        for key in ["root.key", "tsa.key"] {
            let mut args = vec!["genpkey"];
            args.extend(ec);
            args.extend(["-out", key]);
            openssl(d, &args);
        }
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "root.key",
                "-subj",
                "/CN=Test TSA Root",
                "-days",
                "2",
                "-config",
                "ext.cnf",
                "-extensions",
                "ca",
                "-out",
                "root.pem",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-new",
                "-key",
                "tsa.key",
                "-subj",
                "/CN=Test TSA",
                "-out",
                "tsa.csr",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "tsa.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-set_serial",
                "2",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
                "-extensions",
                "tsa",
                "-out",
                "tsa.pem",
            ],
        );
        std::fs::write(d.join("serial"), "01\n").unwrap();
        let config = format!(
            "[tsa]
default_tsa = tsa_config
[tsa_config]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/root.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
",
            dir = d.display()
        );
        std::fs::write(d.join("ts.cnf"), config).unwrap();
        Some(Self { dir })
    }

    /// OpenSSL's answer (a DER `TimeStampResp`) to a DER `TimeStampReq`.
    fn reply(&self, query: &[u8]) -> Vec<u8> {
        let d = self.dir.path();
        let name = format!("query-{}.tsq", std::process::id());
        let query_file = tempfile::Builder::new()
            .suffix(&name)
            .tempfile_in(d)
            .unwrap();
        std::fs::write(query_file.path(), query).unwrap();
        let reply_file = query_file.path().with_extension("tsr");
        openssl(
            d,
            &[
                "ts",
                "-reply",
                "-config",
                "ts.cnf",
                "-queryfile",
                query_file.path().to_str().unwrap(),
                "-inkey",
                "tsa.key",
                "-signer",
                "tsa.pem",
                "-out",
                reply_file.to_str().unwrap(),
            ],
        );
        std::fs::read(reply_file).unwrap()
    }

    /// A genuine reply to another query (over other data, with another nonce).
    fn foreign_reply(&self) -> Vec<u8> {
        let d = self.dir.path();
        std::fs::write(d.join("other.txt"), "some other data").unwrap();
        let query = openssl(
            d,
            &["ts", "-query", "-data", "other.txt", "-sha256", "-cert"],
        );
        self.reply(&query)
    }

    fn root_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("root.pem")).unwrap()
    }
}

/// A request as the test server read it.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// How the server answers one request: writes a whole HTTP response.
type Answer = dyn Fn(&Seen, &mut dyn Write) -> std::io::Result<()> + Send + Sync;

/// A server on 127.0.0.1 that answers at most `max` connections with `answer`, over
/// TLS when given a configuration.
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(max: usize, tls: Option<Arc<rustls::ServerConfig>>, answer: Box<Answer>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming().take(max) {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(60)));
                let _ = stream.set_write_timeout(Some(std::time::Duration::from_secs(60)));
                let _ = match &tls {
                    Some(config) => {
                        let conn = rustls::ServerConnection::new(Arc::clone(config)).unwrap();
                        let mut tls = rustls::StreamOwned::new(conn, stream);
                        exchange(&mut tls, &log, &*answer)
                    }
                    None => exchange(&mut { stream }, &log, &*answer),
                };
            }
        });
        Self {
            url: format!("{scheme}://127.0.0.1:{port}/tsa"),
            seen,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits for the server's last connection to end.
    fn finish(mut self) -> Vec<Seen> {
        self.thread.take().unwrap().join().unwrap();
        self.seen()
    }
}

/// Reads one request (head and a body of its Content-Length, at most 1 MiB) and answers.
fn exchange<S: Read + Write>(
    stream: &mut S,
    log: &Mutex<Vec<Seen>>,
    answer: &Answer,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
        if head.len() > 64 * 1024 {
            return Ok(());
        }
    }
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    drop(reader);
    let seen = Seen {
        content_type: header("content-type"),
        head,
        body,
    };
    log.lock().unwrap().push(seen.clone());
    answer(&seen, stream)?;
    stream.flush()
}

fn reply_head(content_type: &str, length: usize) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
}

/// An authority's answers: its real token, with Content-Length or chunked.
fn real_authority(authority: Arc<Authority>, chunked: bool) -> Box<Answer> {
    Box::new(move |seen, out| {
        let token = authority.reply(&seen.body);
        if chunked {
            out.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            )?;
            for piece in token.chunks(700) {
                write!(out, "{:x}\r\n", piece.len())?;
                out.write_all(piece)?;
                out.write_all(b"\r\n")?;
            }
            out.write_all(b"0\r\n\r\n")
        } else {
            out.write_all(reply_head("application/timestamp-reply", token.len()).as_bytes())?;
            out.write_all(&token)
        }
    })
}

fn options(url: &str) -> SignOptions {
    SignOptions {
        tsa_url: Some(url.to_owned()),
        tsa_roots: None,
    }
}

/// Trust for the signer's development root and the time-stamp authority's root.
fn anchors(id: &Identity, authority: &Authority) -> TrustAnchors {
    let mut pem = std::fs::read(id.path("root.pem")).unwrap();
    pem.extend(authority.root_pem());
    TrustAnchors::from_pem(&pem).unwrap()
}

fn time_stamp_reason(result: Result<Vec<u8>, CredentialError>) -> String {
    match result {
        Err(e @ CredentialError::TimeStamp { .. }) => {
            eprintln!("{e}");
            let CredentialError::TimeStamp { reason, .. } = e else {
                unreachable!()
            };
            reason
        }
        other => panic!(
            "expected a time-stamp error, got {:?}",
            other.map(|s| s.len())
        ),
    }
}

#[test]
fn a_time_stamp_from_a_real_authority_is_obtained_and_verified() {
    let Some(authority) = Authority::new() else {
        return;
    };
    let authority = Arc::new(authority);
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let before = tracemark_core::Timestamp::now();

    // Sidecar, the token sent with a Content-Length.
    let server = Server::start(1, None, real_authority(Arc::clone(&authority), false));
    let store = sign_sidecar(TEXT_1K.as_bytes(), &id.key, &spec(), &options(&server.url))
        .expect("a time stamp from the local authority");
    let seen = server.finish();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].head.starts_with("POST /tsa HTTP/1.1\r\n"),
        "{}",
        seen[0].head
    );
    assert_eq!(
        seen[0].content_type.as_deref(),
        Some("application/timestamp-query")
    );
    let verifier = Verifier::with_trust_anchors(anchors(&id, &authority));
    let r = verifier
        .verify_sidecar(TEXT_1K.as_bytes(), &store, "text/plain")
        .unwrap();
    assert_eq!(r.state, CredentialState::Trusted, "{r:#?}");
    let stamped = r
        .signed_at
        .expect("the report carries the time stamp's time");
    let after = tracemark_core::Timestamp::now();
    // The authority states whole seconds (accuracy 1 s).
    assert!(
        (before.unix_seconds() - 1..=after.unix_seconds() + 1).contains(&stamped.unix_seconds()),
        "{before} <= {stamped} <= {after}"
    );

    // Embedded text, the token sent chunked.
    let server = Server::start(1, None, real_authority(Arc::clone(&authority), true));
    let signed = sign_text_embedded(TEXT_1K, &id.key, &spec(), &options(&server.url))
        .expect("a time stamp sent chunked");
    server.finish();
    let r = verifier.verify_text(&signed.text).unwrap();
    assert_eq!(r.state, CredentialState::Trusted, "{r:#?}");
    assert!(r.signed_at.is_some(), "{r:#?}");

    // Media (an embedded manifest in a PNG).
    let png = std::fs::read(common::fixture("tiny.png")).unwrap();
    let server = Server::start(1, None, real_authority(Arc::clone(&authority), false));
    let signed = sign_media(
        &png,
        MediaFormat::Png,
        &id.key,
        &spec(),
        &options(&server.url),
    )
    .expect("a time-stamped PNG");
    server.finish();
    let r = verifier
        .verify_media(MediaFormat::Png, &signed.bytes)
        .unwrap();
    assert_eq!(r.state, CredentialState::Trusted, "{r:#?}");
    assert!(r.signed_at.is_some(), "{r:#?}");
    // ... and its failure is named as the authority's, as for text.
    let server = Server::start(
        1,
        None,
        Box::new(|_, out| {
            out.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        }),
    );
    match sign_media(
        &png,
        MediaFormat::Png,
        &id.key,
        &spec(),
        &options(&server.url),
    ) {
        Err(CredentialError::TimeStamp { reason, .. }) => {
            assert!(reason.contains("HTTP 503"), "{reason}")
        }
        other => panic!(
            "expected a time-stamp error, got {:?}",
            other.map(|m| m.manifest_len)
        ),
    }
    server.finish();
}

#[test]
fn an_https_authority_works_when_its_ca_is_trusted() {
    let Some(authority) = Authority::new() else {
        return;
    };
    let authority = Arc::new(authority);
    let id = Identity::new(SigningAlgorithm::Es256);
    // A TLS root and a server certificate for 127.0.0.1, made with rcgen.
    let mut root_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    root_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Test TLS Root");
    let root =
        rcgen::CertifiedIssuer::self_signed(root_params, rcgen::KeyPair::generate().unwrap())
            .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &root)
        .unwrap();
    let tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let tls = Arc::new(tls);

    let server = Server::start(
        1,
        Some(Arc::clone(&tls)),
        real_authority(Arc::clone(&authority), false),
    );
    let opts = SignOptions {
        tsa_url: Some(server.url.clone()),
        tsa_roots: Some(TrustAnchors::from_pem(root.pem().as_bytes()).unwrap()),
    };
    let store =
        sign_sidecar(TEXT_1K.as_bytes(), &id.key, &spec(), &opts).expect("a time stamp over https");
    let seen = server.finish();
    assert_eq!(
        seen[0].content_type.as_deref(),
        Some("application/timestamp-query")
    );
    let r = Verifier::with_trust_anchors(anchors(&id, &authority))
        .verify_sidecar(TEXT_1K.as_bytes(), &store, "text/plain")
        .unwrap();
    assert_eq!(r.state, CredentialState::Trusted, "{r:#?}");
    assert!(r.signed_at.is_some());

    // Without that root (Mozilla's roots only), the server's certificate is refused.
    let server = Server::start(1, Some(tls), real_authority(Arc::clone(&authority), false));
    let reason = time_stamp_reason(sign_sidecar(
        TEXT_1K.as_bytes(),
        &id.key,
        &spec(),
        &options(&server.url),
    ));
    assert!(reason.to_lowercase().contains("certificate"), "{reason}");
    server.finish();
}

#[test]
fn endless_and_oversized_answers_are_refused() {
    if !tracemark_testkit::command_or_skip("openssl", "version") {
        return;
    }
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let sign = |url: &str| sign_sidecar(TEXT_1K.as_bytes(), &id.key, &spec(), &options(url));
    // Streams `chunk` forever, up to 256 MiB (the client should stop long before).
    fn stream(out: &mut dyn Write, head: &[u8], chunk: &[u8]) -> std::io::Result<()> {
        out.write_all(head)?;
        for _ in 0..(256 << 20) / chunk.len() {
            out.write_all(chunk)?;
        }
        Ok(())
    }
    let filler = vec![0x30u8; 16 * 1024];
    let chunked_piece = [b"4000\r\n".as_slice(), &filler, b"\r\n"].concat();

    // An endless chunked body of well-formed chunks.
    let piece = chunked_piece.clone();
    let server = Server::start(
        1,
        None,
        Box::new(move |_, out| {
            stream(
                out,
                b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nTransfer-Encoding: chunked\r\n\r\n",
                &piece,
            )
        }),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(
        reason.contains("longer than") && reason.contains("refused"),
        "{reason}"
    );
    server.finish();

    // One chunk that claims an absurd size, then endless data.
    let data = filler.clone();
    let server = Server::start(
        1,
        None,
        Box::new(move |_, out| {
            stream(
                out,
                b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffff\r\n",
                &data,
            )
        }),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(
        reason.contains("refused") || reason.contains("chunk"),
        "{reason}"
    );
    server.finish();

    // A Content-Length of 10 GiB: refused on the header, before the body.
    let data = filler.clone();
    let server = Server::start(
        1,
        None,
        Box::new(move |_, out| {
            stream(
                out,
                b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: 10737418240\r\n\r\n",
                &data,
            )
        }),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(
        reason.contains("longer than") && reason.contains("refused"),
        "{reason}"
    );
    server.finish();

    // No length at all, the body running until the connection closes.
    let data = filler;
    let server = Server::start(
        1,
        None,
        Box::new(move |_, out| {
            stream(
                out,
                b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nConnection: close\r\n\r\n",
                &data,
            )
        }),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(
        reason.contains("longer than") && reason.contains("refused"),
        "{reason}"
    );
    server.finish();
}

#[test]
fn garbage_wrong_types_errors_and_foreign_tokens_are_clear_errors() {
    let Some(authority) = Authority::new() else {
        return;
    };
    let authority = Arc::new(authority);
    let id = Identity::new(SigningAlgorithm::Ed25519);
    let sign = |url: &str| sign_sidecar(TEXT_1K.as_bytes(), &id.key, &spec(), &options(url));
    let fixed = |head: String, body: Vec<u8>| -> Box<Answer> {
        Box::new(move |_, out| {
            out.write_all(head.as_bytes())?;
            out.write_all(&body)
        })
    };

    // Garbage with the right content type.
    let garbage = b"this is not a time-stamp response".to_vec();
    let server = Server::start(
        1,
        None,
        fixed(
            reply_head("application/timestamp-reply", garbage.len()),
            garbage,
        ),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(reason.contains("not a usable RFC 3161"), "{reason}");
    server.finish();

    // A real token, but labelled as HTML.
    let a = Arc::clone(&authority);
    let server = Server::start(
        1,
        None,
        Box::new(move |seen, out| {
            let token = a.reply(&seen.body);
            out.write_all(reply_head("text/html; charset=utf-8", token.len()).as_bytes())?;
            out.write_all(&token)
        }),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(
        reason.contains("`text/html; charset=utf-8`")
            && reason.contains("not application/timestamp-reply"),
        "{reason}"
    );
    server.finish();

    // No content type, an empty body.
    let server = Server::start(
        1,
        None,
        fixed(
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".into(),
            Vec::new(),
        ),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(reason.contains("(none)"), "{reason}");
    server.finish();
    let server = Server::start(
        1,
        None,
        fixed(reply_head("application/timestamp-reply", 0), Vec::new()),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(reason.contains("empty"), "{reason}");
    server.finish();

    // An HTTP error, and a redirect (reported, not followed).
    let server = Server::start(
        1,
        None,
        fixed(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\n".into(),
            b"nope".to_vec(),
        ),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(reason.contains("HTTP 500"), "{reason}");
    server.finish();
    let server = Server::start(
        1,
        None,
        fixed(
            "HTTP/1.1 302 Found\r\nLocation: https://elsewhere.example/tsa\r\nContent-Length: 0\r\n\r\n"
                .into(),
            Vec::new(),
        ),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(
        reason.contains("HTTP 302") && reason.contains("https://elsewhere.example/tsa"),
        "{reason}"
    );
    server.finish();

    // Not HTTP at all.
    let server = Server::start(
        1,
        None,
        fixed(String::new(), b"\x16\x03\x01garbage\r\n\r\n".to_vec()),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(
        reason.contains("the request to the authority failed"),
        "{reason}"
    );
    server.finish();

    // A genuine token from the same authority, but for another request.
    let foreign = authority.foreign_reply();
    let server = Server::start(
        1,
        None,
        fixed(
            reply_head("application/timestamp-reply", foreign.len()),
            foreign,
        ),
    );
    let reason = time_stamp_reason(sign(&server.url));
    assert!(
        reason.contains("nonce") || reason.contains("does not cover"),
        "{reason}"
    );
    server.finish();

    // Nobody listening.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let reason = time_stamp_reason(sign(&format!("http://127.0.0.1:{port}/")));
    assert!(
        reason.contains("the request to the authority failed"),
        "{reason}"
    );
}
