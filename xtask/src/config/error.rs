//! Errors that point into infra.toml: file, line, column, the key, the line itself, and what to do.

use std::{fmt, ops::Range};

use camino::{Utf8Path, Utf8PathBuf};

/// A configuration error: file, line, column, the key, the line itself, and what to do.
#[derive(Debug)]
pub struct ConfigError {
    pub path: Utf8PathBuf,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
    pub help: Option<String>,
    snippet: String,
    underline: Range<usize>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_empty() { String::new() } else { format!("{}: ", self.key) };
        writeln!(f, "{}:{}:{}: {key}{}", self.path, self.line, self.column, self.message)?;
        let gutter = self.line.to_string().len();
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{} | {}", self.line, self.snippet)?;
        let width = (self.underline.end - self.underline.start).max(1);
        write!(f, "{:gutter$} | {}{}", "", " ".repeat(self.underline.start), "^".repeat(width))?;
        if let Some(help) = &self.help {
            write!(f, "\n{:gutter$} = help: {help}", "")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

pub struct Source<'a> {
    pub path: &'a Utf8Path,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn error(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..].find('\n').map_or(self.text.len(), |i| start + i);
        let line = self.text[..start].matches('\n').count() + 1;
        let column = self.text[line_start..start].chars().count() + 1;
        let snippet = self.text[line_start..line_end].trim_end().to_owned();
        let end = span.end.clamp(start, line_end);
        let underline = (column - 1)..(column - 1 + self.text[start..end].chars().count());
        // Relative to where the user is, as compilers print paths.
        let cwd = std::env::current_dir().ok().and_then(|d| Utf8PathBuf::from_path_buf(d).ok());
        let path = cwd
            .and_then(|cwd| self.path.strip_prefix(&cwd).ok().map(Utf8Path::to_owned))
            .unwrap_or_else(|| self.path.to_owned());
        ConfigError { path, line, column, key: key.to_owned(), message: message.into(), help: None, snippet, underline }
    }
}

pub trait Help {
    fn help(self, help: impl Into<String>) -> Self;
}

impl Help for ConfigError {
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The dotted key whose key or value contains `offset`, for serde's errors (which only carry
/// a span). Table headers don't span their bodies, so every leaf is visited.
pub fn key_at(text: &str, offset: usize) -> String {
    fn walk(table: &toml::de::DeTable<'_>, offset: usize, prefix: &str, best: &mut Option<(usize, String)>) {
        for (key, value) in table {
            let path =
                if prefix.is_empty() { key.get_ref().to_string() } else { format!("{prefix}.{}", key.get_ref()) };
            for span in [key.span(), value.span()] {
                let width = span.end - span.start;
                if span.contains(&offset) && best.as_ref().is_none_or(|(w, _)| width <= *w) {
                    *best = Some((width, path.clone()));
                }
            }
            match value.get_ref() {
                toml::de::DeValue::Table(inner) => walk(inner, offset, &path, best),
                toml::de::DeValue::Array(items) => {
                    for item in items {
                        if let toml::de::DeValue::Table(inner) = item.get_ref() {
                            walk(inner, offset, &path, best);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let Ok(doc) = toml::de::DeTable::parse(text) else { return String::new() };
    let mut best = None;
    walk(doc.get_ref(), offset, "", &mut best);
    best.map(|(_, path)| path).unwrap_or_default()
}
