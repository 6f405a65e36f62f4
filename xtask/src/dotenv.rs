//! A `.env` file, read with dotenvy: `KEY=value` lines, `#` comments, optional `export `, single
//! quotes (literal), double quotes (with `\n` and multi-line values), `${VAR}` expansion.
//! Variables already in the environment win, as with docker compose.
//!
//! docker compose, the backend (python-dotenv) and Next.js read `.env` files too, each its own
//! way: the `readers` test holds them to the same values on the constructs they share
//! and names the ones they read differently, which `.env.example` avoids.

use anyhow::{Context, Result};
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
    dotenvy::from_read_iter(text.as_bytes()).map(|entry| Ok(entry?)).collect()
}

#[cfg(test)]
mod readers;

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_quotes_comments_escapes_and_export() {
        let text = "# comment\nA=1\nexport B='two words'\nC=\"x=y\"\nD=plain # note\n\nE=\n\
                    F=\"quoted\" # note\nG='single' # note\nH=\"one\\ntwo\"\nI=\"first\nsecond\"\nJ=${A}-x\n";
        let got = parse(text).unwrap();
        let want = [
            ("A", "1"),
            ("B", "two words"),
            ("C", "x=y"),
            ("D", "plain"),
            ("E", ""),
            ("F", "quoted"),
            ("G", "single"),
            ("H", "one\ntwo"),
            ("I", "first\nsecond"),
            ("J", "1-x"),
        ];
        assert_eq!(got, want.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }

    #[test]
    fn rejects_a_line_without_equals_sign_naming_the_line() {
        let err = parse("A=1\nnonsense\n").unwrap_err();
        assert!(err.to_string().contains("'nonsense'"), "{err}");
    }
}
