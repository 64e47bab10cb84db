//! `facesign contracts`: writes the published event contracts into
//! `docs/contracts/` (workers::kafka::contract), and tells which files there
//! differ from what the engine would write now.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use workers::kafka::contract::contract_files;

/// Writes every contract file under `out` and removes JSON files there that
/// are no longer generated; returns how many it wrote.
pub fn write(out: &Path) -> anyhow::Result<usize> {
    let files = contract_files();
    for (path, content) in &files {
        let target = out.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, content)?;
    }
    let generated: BTreeSet<PathBuf> = files.iter().map(|(path, _)| out.join(path)).collect();
    for existing in json_files(out) {
        if !generated.contains(&existing) {
            std::fs::remove_file(&existing)?;
        }
    }
    Ok(files.len())
}

/// The files under `dir` that are missing, differ from what would be written,
/// or are no longer generated; empty when the directory is current.
pub fn stale(dir: &Path) -> Vec<String> {
    let files = contract_files();
    let mut out: Vec<String> = files
        .iter()
        .filter(|(path, content)| {
            std::fs::read_to_string(dir.join(path)).ok().as_ref() != Some(content)
        })
        .map(|(path, _)| path.clone())
        .collect();
    let generated: BTreeSet<PathBuf> = files.iter().map(|(path, _)| dir.join(path)).collect();
    out.extend(
        json_files(dir)
            .into_iter()
            .filter(|existing| !generated.contains(existing))
            .map(|existing| format!("{} (no longer generated)", existing.display())),
    );
    out
}

/// Every `.json` file under `dir`, at any depth.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                out.push(path);
            }
        }
    }
    out
}
