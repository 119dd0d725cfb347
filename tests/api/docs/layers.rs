//! The README's Architecture table, enforced: each top-level module of `src/` names only the
//! modules below it (`crate::...`), so no import points up and none goes round in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use super::root;

/// Each module and the modules it may import, lowest layer first. A module may import only
/// modules listed before it.
const LAYERS: &[(&str, &[&str])] = &[
    ("metrics", &[]),
    ("domain", &[]),
    ("telemetry", &["domain"]),
    ("records", &["domain"]),
    ("org", &["domain"]),
    ("storage", &["metrics", "domain", "records", "org"]),
    ("voip", &["domain"]),
    (
        "lifecycle",
        &["metrics", "domain", "records", "storage", "voip"],
    ),
    ("views", &["domain", "records"]),
    ("events", &["domain", "records", "views"]),
    (
        "actions",
        &[
            "metrics",
            "domain",
            "records",
            "org",
            "storage",
            "voip",
            "lifecycle",
            "views",
        ],
    ),
    ("config", &["telemetry", "domain", "lifecycle"]),
    ("ready", &["domain", "org", "actions"]),
    (
        "state",
        &[
            "metrics",
            "domain",
            "records",
            "org",
            "storage",
            "voip",
            "lifecycle",
            "actions",
            "config",
        ],
    ),
    (
        "http",
        &[
            "metrics",
            "domain",
            "records",
            "org",
            "storage",
            "voip",
            "lifecycle",
            "views",
            "events",
            "actions",
            "config",
            "state",
        ],
    ),
    ("server", &[]),
    ("healthcheck", &[]),
    (
        "startup",
        &[
            "metrics",
            "domain",
            "records",
            "org",
            "storage",
            "voip",
            "lifecycle",
            "views",
            "events",
            "actions",
            "config",
            "state",
            "http",
            "server",
        ],
    ),
];

/// The `crate::<module>` names in every file of `dir`, by the top-level module they belong to.
fn imports(dir: &Path, module: Option<&str>, into: &mut BTreeMap<String, BTreeSet<String>>) {
    for entry in fs::read_dir(dir).expect("src/ reads") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let owner = module.unwrap_or(name).to_owned();
        if path.is_dir() {
            imports(&path, Some(&owner), into);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") || matches!(name, "lib" | "main") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("a source file reads");
        let used = into.entry(owner.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if rest[..end] != owner {
                used.insert(rest[..end].to_owned());
            }
        }
    }
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let mut found = BTreeMap::new();
    imports(&root().join("src"), None, &mut found);
    let mut below = BTreeSet::new();
    let mut wrong = Vec::new();
    for (module, allowed) in LAYERS {
        for name in *allowed {
            assert!(
                below.contains(*name),
                "LAYERS lists {name} for {module} before {name} has its own row"
            );
        }
        let Some(used) = found.remove(*module) else {
            panic!("src/ has no module {module}");
        };
        for name in used.iter().filter(|name| !allowed.contains(&name.as_str())) {
            wrong.push(format!("{module} imports {name}"));
        }
        below.insert(*module);
    }
    assert!(
        found.is_empty(),
        "modules missing from LAYERS (and from the README's Architecture table): {:?}",
        found.keys().collect::<Vec<_>>()
    );
    assert!(wrong.is_empty(), "imports that point up: {wrong:#?}");
}
