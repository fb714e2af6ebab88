//! `docs/ordering.md` cannot drift from the project's cases.
//!
//! Every rule of the page is shown by a case of `tests/cases`: a line that
//! starts with ``[`tests/cases/NAME.json`](../tests/cases/NAME.json)``,
//! followed by a ```` ```json ```` block (the script) and a ```` ```text ````
//! block (what it prints). This test checks that
//!
//! - the `json` block is the case file: the same JSON value;
//! - the `text` block is `NAME.out`, byte for byte (each line of the block
//!   followed by `\n`);
//! - every case of `tests/cases` is shown, once (a new case needs a
//!   section), and the page gives their number;
//! - the script of the page, run on loop-core, prints the `text` block.

use loop_tests::script;
use loop_tests::util::{cases_dir, workspace_root};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;

const PREFIX: &str = "[`tests/cases/";

fn doc() -> String {
    let path = workspace_root().join("docs/ordering.md");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One case as the page shows it.
#[derive(Debug)]
struct Shown {
    name: String,
    /// 1-based line of the reference.
    line: usize,
    json: String,
    /// Each line of the block followed by `\n`.
    text: String,
}

/// A line of prose or a fenced block of the page.
enum Item<'a> {
    Prose(usize, &'a str),
    Block {
        line: usize,
        info: &'a str,
        body: String,
    },
}

fn items(doc: &str) -> Result<Vec<Item<'_>>, String> {
    let mut out = Vec::new();
    let mut open: Option<(usize, &str, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => open = Some((i + 1, info.trim(), String::new())),
            (None, None) => out.push(Item::Prose(i + 1, line)),
            (Some(_), Some(_)) => {
                let (line, info, body) = open.take().expect("an open block");
                out.push(Item::Block { line, info, body });
            }
            (Some((_, _, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    match open {
        Some((line, _, _)) => Err(format!("line {line}: a code block is never closed")),
        None => Ok(out),
    }
}

/// `(NAME, rest of the line)` if `line` starts with
/// ``[`tests/cases/NAME.json`]``: a case reference.
fn reference(line: &str) -> Option<(&str, &str)> {
    line.strip_prefix(PREFIX)?
        .split_once(".json`]")
        .filter(|(name, _)| !name.is_empty() && !name.contains('`'))
}

/// The cases the page shows, in page order, or what is wrong with the page.
fn shown_cases(doc: &str) -> Result<Vec<Shown>, Vec<String>> {
    let items = items(doc).map_err(|e| vec![e])?;
    let mut shown = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Item::Prose(line, text) if reference(text).is_some() => {
                let line = *line;
                let (name, after) = reference(text).expect("a reference");
                let link = format!("(../tests/cases/{name}.json)");
                if !after.starts_with(&link) {
                    problems.push(format!("{name} (line {line}): the link should be {link}"));
                }
                // The next two blocks, with only prose between them.
                let mut blocks = Vec::new();
                let mut j = i + 1;
                while j < items.len() && blocks.len() < 2 {
                    match &items[j] {
                        Item::Prose(_, t) if reference(t).is_some() => break,
                        Item::Prose(..) => {}
                        Item::Block { info, body, .. } => blocks.push((*info, body.clone())),
                    }
                    j += 1;
                }
                match blocks.as_slice() {
                    [("json", json), ("text", text)] => shown.push(Shown {
                        name: name.to_string(),
                        line,
                        json: json.clone(),
                        text: text.clone(),
                    }),
                    _ => problems.push(format!(
                        "{name} (line {line}): not followed by a ```json block (the script) \
                         and a ```text block (its output)"
                    )),
                }
                i = j;
            }
            Item::Block { line, info, .. } if *info == "json" || *info == "text" => {
                problems.push(format!(
                    "line {line}: a ```{info} block that belongs to no case reference"
                ));
                i += 1;
            }
            _ => i += 1,
        }
    }
    if problems.is_empty() {
        Ok(shown)
    } else {
        Err(problems)
    }
}

/// Every `NAME` of `tests/cases/NAME.json`, sorted.
fn project_cases() -> Vec<String> {
    let dir = cases_dir();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    names
}

fn shown_or_panic(doc: &str) -> Vec<Shown> {
    let shown = shown_cases(doc).unwrap_or_else(|problems| {
        panic!("docs/ordering.md:\n{}", problems.join("\n"));
    });
    assert!(
        shown.len() >= 7,
        "docs/ordering.md shows only {} cases: is the parser broken?",
        shown.len()
    );
    shown
}

#[test]
fn every_case_is_shown_with_its_script_and_output() {
    let text = doc();
    let shown = shown_or_panic(&text);
    let dir = cases_dir();
    let mut problems = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &shown {
        let name = case.name.as_str();
        let at = format!("{name} (docs/ordering.md line {})", case.line);
        if let Some(first) = seen.insert(name, case.line) {
            problems.push(format!("{at}: already shown at line {first}"));
        }
        let json_path = dir.join(format!("{name}.json"));
        let Ok(file_text) = fs::read_to_string(&json_path) else {
            problems.push(format!("{at}: no such case {}", json_path.display()));
            continue;
        };
        let file: Value = match serde_json::from_str(&file_text) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{at}: tests/cases/{name}.json is not JSON: {e}"));
                continue;
            }
        };
        match serde_json::from_str::<Value>(&case.json) {
            Err(e) => problems.push(format!("{at}: the json block does not parse: {e}")),
            Ok(v) if v != file => problems.push(format!(
                "{at}: the json block differs from tests/cases/{name}.json, which reads\n{file_text}"
            )),
            Ok(_) => {}
        }
        if file.get("name").and_then(Value::as_str) != Some(name) {
            problems.push(format!("{at}: the case's \"name\" is not its file name"));
        }
        match fs::read_to_string(dir.join(format!("{name}.out"))) {
            Err(e) => problems.push(format!("{at}: tests/cases/{name}.out: {e}")),
            Ok(out) if out != case.text => problems.push(format!(
                "{at}: the text block is not tests/cases/{name}.out:\n{}",
                script::diff(&out, &case.text)
            )),
            Ok(_) => {}
        }
    }
    let cases = project_cases();
    let claim = format!("The project has {} cases", cases.len());
    if !text.contains(&claim) {
        problems.push(format!(
            "docs/ordering.md should say \"{claim}\" (How conformance is checked)"
        ));
    }
    for name in cases {
        if !seen.contains_key(name.as_str()) {
            problems.push(format!(
                "{name}: tests/cases/{name}.json has no section in docs/ordering.md"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The page's scripts, run on loop-core, print the page's outputs (the
/// conformance test runs the case files against Node.js's `.out`).
#[test]
fn shown_scripts_print_the_shown_output() {
    let shown = shown_or_panic(&doc());
    let mut failures = Vec::new();
    for case in &shown {
        let s = match script::parse(&case.json) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!(
                    "{}: the json block is not a valid script: {e}",
                    case.name
                ));
                continue;
            }
        };
        let got = script::run(&s).expect("the loop runs");
        if got != case.text {
            failures.push(format!(
                "{} (docs/ordering.md line {}): loop-core prints otherwise:\n{}",
                case.name,
                case.line,
                script::diff(&case.text, &got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_parser_finds_what_it_should() {
    let page = "# T\n\n### A rule\n\nWhy.\n\n\
                [`tests/cases/a.json`](../tests/cases/a.json):\n\n\
                ```json\n{\"x\": 1}\n```\n\nprints\n\n```text\none\ntwo\n```\n\n\
                Prose about `tests/cases/NAME.json` is no reference, nor\n\
                [`tests/cases/`](../tests/cases) at the start of a line.\n\n```sh\nls\n```\n";
    let shown = shown_cases(page).expect("a valid page");
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].name, "a");
    assert_eq!(shown[0].line, 7);
    assert_eq!(shown[0].json, "{\"x\": 1}\n");
    assert_eq!(shown[0].text, "one\ntwo\n");

    let no_text = "[`tests/cases/a.json`](../tests/cases/a.json)\n```json\n{}\n```\n\
                   [`tests/cases/b.json`](../tests/cases/b.json)\n```json\n{}\n```\n```text\n```\n";
    let problems = shown_cases(no_text).expect_err("a has no text block");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("a (line 1)"), "{problems:?}");

    let stray = "```json\n{}\n```\n";
    assert!(shown_cases(stray).is_err(), "a json block outside a case");
    let bad_link = "[`tests/cases/a.json`](a.json)\n```json\n{}\n```\n```text\n```\n";
    assert!(shown_cases(bad_link).is_err(), "a wrong link");
    assert!(shown_cases("```json\n").is_err(), "an unclosed block");
}
