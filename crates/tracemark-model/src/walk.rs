//! Which files a model is (OMS v1.0 §6.1, §6.2): regular files under the root, named by
//! canonical `/`-separated UTF-8 paths relative to it, less the exclusions.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    time::SystemTime,
};

use crate::error::{ModelError, Result};

/// The paths every signer and verifier excludes, as top-level components of the root.
pub const DEFAULT_EXCLUSIONS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// One regular file of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The canonical name: relative, `/`-separated, UTF-8 (a single-file model's is its
    /// file name).
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

/// What is left out of a model: the default exclusions (unless turned off), exact
/// relative paths (and their subtrees), and the signature file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    pub git: bool,
    pub paths: BTreeSet<String>,
}

impl Exclusions {
    /// The defaults (`.git`, `.gitattributes`, `.github`, `.gitignore`) and nothing else.
    pub fn defaults() -> Self {
        Self {
            git: true,
            paths: BTreeSet::new(),
        }
    }

    /// Adds a path relative to the model root, canonicalised (`./a//b/` is `a/b`);
    /// globs, absolute paths and `..` are refused.
    pub fn add(&mut self, path: &str) -> Result<()> {
        self.paths.insert(canonical_ignore_path(path)?);
        Ok(())
    }

    /// Whether `name` (canonical, relative) is excluded.
    pub fn excludes(&self, name: &str) -> bool {
        if self.git {
            let top = name.split('/').next().unwrap_or(name);
            if DEFAULT_EXCLUSIONS.contains(&top) {
                return true;
            }
        }
        self.paths.iter().any(|p| {
            name == p
                || (name.len() > p.len()
                    && name.starts_with(p.as_str())
                    && name.as_bytes()[p.len()] == b'/')
        })
    }

    /// What is recorded as `serialization.ignore_paths`: the defaults in force and the
    /// paths, sorted.
    pub fn recorded(&self) -> Vec<String> {
        let mut all: BTreeSet<String> = self.paths.clone();
        if self.git {
            all.extend(DEFAULT_EXCLUSIONS.iter().map(|s| (*s).to_owned()));
        }
        all.into_iter().collect()
    }
}

/// `path` as a canonical relative name, or why it cannot be one (§6.2.1).
pub fn canonical_ignore_path(path: &str) -> Result<String> {
    let bad = |why| ModelError::BadIgnorePath {
        path: path.to_owned(),
        why,
    };
    if path.contains(['*', '?', '[']) {
        return Err(bad("globs are not allowed"));
    }
    if path.starts_with('/') {
        return Err(bad(
            "it is absolute; ignore paths are relative to the model root",
        ));
    }
    if path.contains('\\') {
        return Err(bad("the separator is `/`"));
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(bad("`..` leaves the model")),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(bad("it names the whole model"));
    }
    Ok(parts.join("/"))
}

/// The model's files, in no particular order. Links are refused unless `follow_links`
/// (OMS `allow_symlinks`), when they are hashed as the file they point at, under the
/// link's name.
pub fn enumerate(root: &Path, exclusions: &Exclusions, follow_links: bool) -> Result<Vec<Entry>> {
    let meta = fs::symlink_metadata(root).map_err(|e| ModelError::io("read", root, e))?;
    let mut out = Vec::new();
    if meta.file_type().is_symlink() && !follow_links {
        return Err(ModelError::Symlink {
            name: root.display().to_string(),
        });
    }
    let meta = fs::metadata(root).map_err(|e| ModelError::io("read", root, e))?;
    if meta.is_file() {
        let name = root
            .file_name()
            .ok_or_else(|| ModelError::NotAModel {
                path: root.to_owned(),
            })?
            .to_str()
            .ok_or_else(|| ModelError::NonUtf8Name {
                path: root.to_owned(),
            })?
            .to_owned();
        out.push(Entry {
            name,
            path: root.to_owned(),
            size: meta.len(),
            modified: meta.modified().ok(),
        });
    } else if meta.is_dir() {
        let mut ancestors = Vec::new();
        if follow_links {
            ancestors.push(fs::canonicalize(root).map_err(|e| ModelError::io("read", root, e))?);
        }
        walk(root, "", exclusions, follow_links, &mut ancestors, &mut out)?;
    } else {
        return Err(ModelError::NotAModel {
            path: root.to_owned(),
        });
    }
    if out.is_empty() {
        return Err(ModelError::EmptyModel {
            path: root.to_owned(),
            excluded: exclusions.recorded().join(", "),
        });
    }
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: &str,
    exclusions: &Exclusions,
    follow_links: bool,
    ancestors: &mut Vec<PathBuf>,
    out: &mut Vec<Entry>,
) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| ModelError::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ModelError::io("list", dir, e))?;
        let path = entry.path();
        let file_name = entry.file_name();
        let component = file_name
            .to_str()
            .ok_or_else(|| ModelError::NonUtf8Name { path: path.clone() })?;
        let name = if prefix.is_empty() {
            component.to_owned()
        } else {
            format!("{prefix}/{component}")
        };
        if exclusions.excludes(&name) {
            continue;
        }
        let mut meta = fs::symlink_metadata(&path).map_err(|e| ModelError::io("read", &path, e))?;
        if meta.file_type().is_symlink() {
            if !follow_links {
                return Err(ModelError::Symlink { name });
            }
            meta = fs::metadata(&path).map_err(|e| ModelError::io("follow the link", &path, e))?;
        }
        if meta.is_dir() {
            let mut pushed = false;
            if follow_links {
                let real = fs::canonicalize(&path)
                    .map_err(|e| ModelError::io("follow the link", &path, e))?;
                if ancestors.contains(&real) {
                    // A cycle: the directory is already being walked.
                    continue;
                }
                ancestors.push(real);
                pushed = true;
            }
            walk(&path, &name, exclusions, follow_links, ancestors, out)?;
            if pushed {
                ancestors.pop();
            }
        } else if meta.is_file() {
            out.push(Entry {
                name,
                path,
                size: meta.len(),
                modified: meta.modified().ok(),
            });
        } else {
            return Err(ModelError::SpecialFile { name });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_paths_are_canonical_and_exact() {
        assert_eq!(canonical_ignore_path("./a//b/").unwrap(), "a/b");
        for bad in ["*.bin", "/abs", "a/../b", ".", "a?", "x\\y"] {
            assert!(canonical_ignore_path(bad).is_err(), "{bad}");
        }
        let mut ex = Exclusions::defaults();
        ex.add("cache").unwrap();
        assert!(ex.excludes("cache"));
        assert!(ex.excludes("cache/x"));
        assert!(!ex.excludes("cachefile"));
        assert!(!ex.excludes("sub/cache"));
        assert!(ex.excludes(".git/config"));
        assert!(!ex.excludes("sub/.git"));
        assert!(!ex.excludes(".gitmodules"));
        assert_eq!(
            ex.recorded(),
            [".git", ".gitattributes", ".github", ".gitignore", "cache"]
        );
    }
}
