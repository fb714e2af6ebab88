//! The project's Markdown links resolve: every relative link in the README
//! and `docs/` names a file of the repository (and, with `#anchor`, a
//! heading of that file), and the README links every page of `docs/`.
//! Web links are not fetched (CI has no network to rely on).

use loop_tests::util::workspace_root;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The Markdown files checked: the README, every crate's README, `docs/`.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    for dir in [
        "docs",
        "loop-core",
        "loop-fs",
        "loop-net",
        "echo-app",
        "tests",
    ] {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// The text outside fenced code blocks and inline code spans, where a
/// `[x](y)` is a link.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// `[text](target)` and `[text](target "title")` link targets.
fn links(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut found = Vec::new();
    let mut rest = prose.as_str();
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or("");
        if !target.is_empty() {
            found.push(target.to_string());
        }
        rest = &after[end..];
    }
    found
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut seen = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            let heading = line.trim_start_matches('#');
            let mut s = slug(heading);
            // Repeated headings get -1, -2… as on GitHub.
            let base = s.clone();
            let mut n = 0;
            while seen.contains(&s) {
                n += 1;
                s = format!("{base}-{n}");
            }
            seen.insert(s);
        }
    }
    seen
}

/// `base/target` without `.` and `..`; `None` if it leaves the repository.
fn resolve(root: &Path, base: &Path, target: &str) -> Option<PathBuf> {
    let joined = base.join(target);
    let mut parts: Vec<Component> = Vec::new();
    for c in joined.strip_prefix(root).ok()?.components() {
        match c {
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            c => parts.push(c),
        }
    }
    Some(parts.iter().fold(root.to_path_buf(), |p, c| p.join(c)))
}

#[test]
fn relative_links_resolve() {
    let root = workspace_root();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files(&root) {
        let text = fs::read_to_string(&file).expect("read a Markdown file");
        let base = file.parent().expect("a file has a folder");
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                Some(file.clone())
            } else {
                resolve(&root, base, path)
            };
            let Some(target) = target else {
                broken.push(format!("{name}: {link}: outside the repository"));
                continue;
            };
            if !target.exists() {
                broken.push(format!("{name}: {link}: no such file"));
                continue;
            }
            if !anchor.is_empty() {
                let page = fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&page).contains(anchor) {
                    broken.push(format!("{name}: {link}: no heading #{anchor}"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(
        checked > 10,
        "only {checked} links found: is the parser broken?"
    );
}

#[test]
fn readme_links_every_doc() {
    let root = workspace_root();
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    let linked: BTreeSet<String> = links(&readme).into_iter().collect();
    let mut missing = Vec::new();
    for e in fs::read_dir(root.join("docs")).expect("docs/").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") && !linked.contains(&format!("docs/{name}")) {
            missing.push(name);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "README.md does not link docs/{}",
        missing.join(", docs/")
    );
}

#[test]
fn the_checker_finds_what_it_should() {
    let text = "See [a](docs/a.md#one-two) and `[not](a link)`.\n\
                ```\n[no](link)\n```\n# One, two!\n## One, two\n";
    assert_eq!(links(text), ["docs/a.md#one-two"]);
    let a = anchors(text);
    assert!(a.contains("one-two") && a.contains("one-two-1"), "{a:?}");
    let root = Path::new("/r");
    assert_eq!(
        resolve(root, Path::new("/r/docs"), "../README.md"),
        Some(PathBuf::from("/r/README.md"))
    );
    assert_eq!(resolve(root, Path::new("/r/docs"), "../../shared/x"), None);
}
