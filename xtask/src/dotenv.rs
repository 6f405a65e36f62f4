//! A `.env` file: `KEY=value` lines, `#` comments, optional `export `, single or double quotes.
//! Variables already in the environment win, as with docker compose.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;

/// The file's entries, without the ones the environment already sets. No file: no entries.
pub fn load(path: &Utf8Path) -> Result<Vec<(String, String)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("cannot read {path}")),
    };
    Ok(parse(&text)
        .with_context(|| format!("in {path}"))?
        .into_iter()
        .filter(|(key, _)| std::env::var_os(key).is_none())
        .collect())
}

pub fn parse(text: &str) -> Result<Vec<(String, String)>> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            bail!("line {}: expected KEY=value", n + 1);
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("line {}: `{key}` is not a variable name", n + 1);
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) if value.len() >= 2 && value.ends_with(q) => &value[1..value.len() - 1],
            // An unquoted value ends at a comment.
            _ => value.split(" #").next().unwrap_or("").trim_end(),
        };
        entries.push((key.to_owned(), value.to_owned()));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_quotes_comments_and_export() {
        let text = "# comment\nA=1\nexport B='two words'\nC=\"x=y\"\nD=plain # note\n\nE=\n";
        let got = parse(text).unwrap();
        let want = [("A", "1"), ("B", "two words"), ("C", "x=y"), ("D", "plain"), ("E", "")];
        assert_eq!(got, want.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }

    #[test]
    fn rejects_a_line_without_equals_sign_naming_the_line() {
        let err = parse("A=1\nnonsense\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: expected KEY=value");
    }
}
