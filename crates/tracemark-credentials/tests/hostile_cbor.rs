//! The fuzz finding of `fuzz/RESULTS.md`: a 3,888-byte WebP whose manifest store holds
//! an assertion with a CBOR byte-string length of 1,852,402,033 bytes made the c2pa
//! reader allocate and zero 1.85 GB. The verifier now refuses such a store before c2pa
//! reads it: the credential is tampered (`manifest.unreadable`), never "none", and no
//! allocation is larger than a few MB, whichever carrier brings the store (the media
//! itself, a sidecar, an A.8 text wrapper).
//!
//! This test binary counts allocations: every request's size is recorded before it is
//! handed to the system allocator, so the 1.85 GB request is caught even where the
//! allocation would fail.

mod common;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    io::Cursor,
    path::PathBuf,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use tracemark_core::fact::CredentialState;
use tracemark_credentials::{Carrier, MediaFormat, VerificationReport, Verifier, wrapper};

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; the only unsafe code
// here, to count allocations in this test binary.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The largest single allocation a verification of these few KB may make.
const MAX_ALLOCATION: usize = 16 << 20;

/// The tests share the counter: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The fuzz input: a selector byte (2: WebP), then the file.
fn hostile_webp() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions/manifest/oom-webp-cbor-length");
    let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(input[0], 2, "the selector picks WebP");
    input[1..].to_vec()
}

fn hostile_store() -> Vec<u8> {
    c2pa::jumbf_io::load_jumbf_from_stream("image/webp", &mut Cursor::new(hostile_webp()))
        .expect("the WebP carries a manifest store")
}

/// Runs `verify` and checks that it refused the store without a large allocation.
fn refused_without_allocating(carrier: Carrier, verify: impl FnOnce() -> VerificationReport) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    LARGEST.store(0, Ordering::Relaxed);
    let report = verify();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= MAX_ALLOCATION,
        "a single allocation of {largest} bytes verifying a few KB"
    );
    assert_eq!(report.state, CredentialState::Tampered, "{report:#?}");
    assert_eq!(report.carrier, carrier, "{report:#?}");
    let failure = report
        .failures
        .iter()
        .find(|f| f.code == "manifest.unreadable")
        .unwrap_or_else(|| panic!("no manifest.unreadable failure: {report:#?}"));
    let why = failure.explanation.as_deref().unwrap_or_default();
    assert!(
        why.contains("a CBOR length exceeds its box"),
        "explanation: {why}"
    );
}

#[test]
fn the_fuzzed_webp_is_tampered_without_a_large_allocation() {
    let webp = hostile_webp();
    refused_without_allocating(Carrier::Embedded, || {
        Verifier::new()
            .verify_media(MediaFormat::Webp, &webp)
            .unwrap()
    });
    // Whatever format the caller names: c2pa reads the container the bytes say.
    refused_without_allocating(Carrier::Embedded, || {
        Verifier::new()
            .verify_media(MediaFormat::Png, &webp)
            .unwrap()
    });
}

#[test]
fn the_fuzzed_webp_file_is_tampered_without_a_large_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.webp");
    std::fs::write(&path, hostile_webp()).unwrap();
    refused_without_allocating(Carrier::Embedded, || {
        Verifier::new().verify_file(&path).unwrap()
    });
}

#[test]
fn the_same_store_as_a_sidecar_is_tampered_without_a_large_allocation() {
    let store = hostile_store();
    refused_without_allocating(Carrier::Sidecar, || {
        Verifier::new()
            .verify_sidecar(b"text", &store, "text/plain")
            .unwrap()
    });
}

#[test]
fn the_same_store_in_a_text_wrapper_is_tampered_without_a_large_allocation() {
    let text = format!("some text{}", wrapper::encode(&hostile_store()).unwrap());
    refused_without_allocating(Carrier::Embedded, || {
        Verifier::new().verify_text(&text).unwrap()
    });
}

#[test]
fn signing_the_fuzzed_webp_is_refused() {
    let identity = common::Identity::new(tracemark_credentials::SigningAlgorithm::Ed25519);
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    LARGEST.store(0, Ordering::Relaxed);
    let result = tracemark_credentials::sign_media(
        &hostile_webp(),
        MediaFormat::Webp,
        &identity.key,
        &common::spec(),
        &Default::default(),
    );
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= MAX_ALLOCATION,
        "an allocation of {largest} bytes"
    );
    let Err(err) = result else {
        panic!("a hostile manifest store was signed over");
    };
    assert!(err.to_string().contains("exceeds its box"), "{err}");
}
