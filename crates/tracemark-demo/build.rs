//! Embeds the demo corpus (`corpus/demo` of the repository) in the library, so that
//! `tracemark demo` works from an installed binary: `demo_corpus.rs` in `OUT_DIR` is a
//! list of `(path relative to corpus/demo, include_bytes!(file))`, sorted by path.

use std::{
    env, fs,
    path::{Path, PathBuf},
};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let corpus = manifest.join("../../corpus/demo");
    let corpus = corpus
        .canonicalize()
        .unwrap_or_else(|e| panic!("the demo corpus {}: {e}", corpus.display()));
    // A directory is watched with everything under it.
    println!("cargo::rerun-if-changed={}", corpus.display());
    let mut found = Vec::new();
    files(&corpus, &mut found);
    found.sort();
    let mut code = String::from("&[\n");
    for path in &found {
        let relative = path
            .strip_prefix(&corpus)
            .expect("under the corpus")
            .to_str()
            .unwrap_or_else(|| panic!("{} is not a UTF-8 path", path.display()))
            .replace(std::path::MAIN_SEPARATOR, "/");
        let absolute = path
            .to_str()
            .unwrap_or_else(|| panic!("{} is not a UTF-8 path", path.display()));
        code.push_str(&format!(
            "    ({relative:?}, include_bytes!({absolute:?}).as_slice()),\n"
        ));
    }
    code.push(']');
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join("demo_corpus.rs");
    fs::write(&out, code).unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
}
