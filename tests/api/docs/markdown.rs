//! Just enough Markdown for the drift tests: headings outside code blocks, sections, table
//! rows and GitHub's heading anchors.

use std::collections::BTreeSet;

/// The lines of a Markdown text with whether each is inside a fenced code block, where a
/// `#` starts a shell comment, not a heading.
pub fn lines(text: &str) -> Vec<(bool, &str)> {
    let mut fenced = false;
    text.lines()
        .map(|line| {
            if line.starts_with("```") {
                fenced = !fenced;
                return (true, line);
            }
            (fenced, line)
        })
        .collect()
}

/// The heading's level and text, when `line` (outside code) is one.
pub fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.bytes().take_while(|&b| b == b'#').count();
    let text = line[level..].strip_prefix(' ')?;
    (level > 0).then_some((level, text))
}

/// The part of `text` under the heading `title` (e.g. "## Running"), up to the next heading
/// of the same or a higher level.
pub fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    let (level, wanted) = heading(title).expect("a heading");
    let mut inside = false;
    let mut found = Vec::new();
    for (fenced, line) in lines(text) {
        if let Some((l, t)) = heading(line).filter(|_| !fenced) {
            if inside && l <= level {
                break;
            }
            if l == level && t == wanted {
                inside = true;
                continue;
            }
        }
        if inside {
            found.push(line);
        }
    }
    assert!(!found.is_empty(), "no section `{title}`");
    found
}

/// The cells of each table row among `lines`, header and separator rows left out (a row
/// whose first cell is not in backticks or a number is a header).
pub fn rows(lines: &[&str]) -> Vec<Vec<String>> {
    lines
        .iter()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            let inner = l.trim().trim_start_matches('|').trim_end_matches('|');
            inner.split('|').map(|c| c.trim().to_owned()).collect()
        })
        .filter(|cells: &Vec<String>| {
            cells[0].starts_with('`') || cells[0].starts_with(|c: char| c.is_ascii_digit())
        })
        .collect()
}

/// `` `x` `` → `x`; a cell of several code spans (`` `a`, `b` ``) gives the first.
pub fn code(cell: &str) -> String {
    cell.split('`').nth(1).unwrap_or(cell).to_owned()
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
pub fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

pub fn anchors(text: &str) -> BTreeSet<String> {
    lines(text)
        .into_iter()
        .filter(|(fenced, _)| !fenced)
        .filter_map(|(_, line)| heading(line).map(|(_, title)| anchor(title)))
        .collect()
}
