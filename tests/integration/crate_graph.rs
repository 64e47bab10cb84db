//! The crates keep the layering docs/architecture.md draws: each depends only
//! on the crates below it, `projections` and `workers` stand side by side, and
//! `store` depends on `domain` alone (issue 33 item 1).

use std::collections::{BTreeMap, BTreeSet};

/// Every edge between the workspace's crates that the layering allows.
const ALLOWED: &[(&str, &[&str])] = &[
    // Proc macros of the domain's messages (issue 33 item 2): below everything.
    ("facesign-message-macros", &[]),
    ("facesign-domain", &["facesign-message-macros"]),
    ("facesign-store", &["facesign-domain"]),
    (
        "facesign-projections",
        &["facesign-domain", "facesign-store"],
    ),
    ("facesign-workers", &["facesign-domain", "facesign-store"]),
    (
        "facesign-api",
        &[
            "facesign-domain",
            "facesign-store",
            "facesign-projections",
            "facesign-workers",
        ],
    ),
    (
        "facesign",
        &[
            "facesign-domain",
            "facesign-store",
            "facesign-projections",
            "facesign-workers",
            "facesign-api",
        ],
    ),
];

/// The workspace's crates and the workspace crates each depends on (normal,
/// dev and build dependencies alike), read from `cargo metadata`.
fn workspace_edges() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("metadata");
    let packages = metadata["packages"].as_array().expect("packages");
    let members: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect();
    packages
        .iter()
        .map(|p| {
            let depends_on = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .map(|d| d["name"].as_str().expect("dependency name").to_string())
                .filter(|name| members.contains(name))
                .collect();
            (p["name"].as_str().expect("name").to_string(), depends_on)
        })
        .collect()
}

#[test]
fn every_crate_depends_only_on_the_layers_below_it() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(name, below)| (*name, below.iter().copied().collect()))
        .collect();
    let edges = workspace_edges();
    assert_eq!(
        edges.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        allowed.keys().copied().collect::<BTreeSet<_>>(),
        "the workspace's crates differ from the layering's; update docs/architecture.md and this test together"
    );
    for (name, depends_on) in &edges {
        let permitted = &allowed[name.as_str()];
        let outside: Vec<&String> = depends_on
            .iter()
            .filter(|d| !permitted.contains(d.as_str()))
            .collect();
        assert!(
            outside.is_empty(),
            "{name} depends on {outside:?}, which the layering does not allow"
        );
    }
    assert!(
        edges["facesign-store"]
            .iter()
            .eq(["facesign-domain"].iter()),
        "the event store depends on the domain alone"
    );
}
