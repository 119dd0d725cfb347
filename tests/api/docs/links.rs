//! Where the README and docs/ point: relative links lead to a file and a heading, and no
//! file points outside the repository.

use std::path::{Path, PathBuf};

use super::markdown::anchors;
use super::{read, root};

#[test]
fn relative_links_in_the_readme_and_docs_lead_to_a_file_and_heading() {
    let mut pages = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        // The pages, not their pictures (docs/screenshots/).
        if name.ends_with(".md") {
            pages.push(format!("docs/{name}"));
        }
    }
    for page in pages {
        let text = read(&page);
        let dir = Path::new(&page).parent().unwrap();
        for link in text
            .split("](")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
        {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                dir.join(file).to_string_lossy().into_owned()
            };
            let path = root().join(&target);
            assert!(path.exists(), "{page}: the link ({link}) leads to no file");
            if !fragment.is_empty() {
                let headings = anchors(&read(&target));
                assert!(
                    headings.contains(fragment),
                    "{page}: no heading #{fragment} in {target}"
                );
            }
        }
    }
}

/// The repository's text files, without what git and builds keep.
fn repository_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if ![".git", "target", "node_modules"].contains(&name.as_str()) {
                repository_files(&path, into);
            }
        } else {
            into.push(path);
        }
    }
}

#[test]
fn no_file_points_to_the_shared_directory_a_clone_lacks() {
    let needle = ["..", "shared"].join("/");
    let mut files = Vec::new();
    repository_files(root(), &mut files);
    assert!(files.iter().any(|f| f.ends_with("README.md")), "{files:?}");
    for file in files {
        if let Ok(text) = std::fs::read_to_string(&file) {
            assert!(
                !text.contains(&needle),
                "{} points to {needle}",
                file.display()
            );
        }
    }
}
