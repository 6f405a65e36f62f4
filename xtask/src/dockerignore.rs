//! `.dockerignore` with Docker's semantics (moby/patternmatcher), which are not .gitignore's:
//! patterns are anchored at the context root, `*` and `?` never cross `/`, `**` spans any number
//! of directories, `!` re-includes, the last matching pattern wins, a pattern that matches a
//! directory matches everything below it, and each pattern is cleaned like Go's `filepath.Clean`
//! (so a leading `/` and a trailing `/` mean nothing).

use anyhow::{bail, Result};

#[derive(Debug, Clone)]
pub struct Pattern {
    pub exclusion: bool,
    tokens: Vec<Token>,
    /// Docker matches a pattern that starts with `**` and has no other wildcard by plain
    /// suffix (`**file` matches `afile`), not by its regular expression: so do we.
    suffix: Option<String>,
    /// A pattern without wildcards matches one path: compared as a string, not char by char.
    literal: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Char(char),
    /// `*`: any run of characters but `/`.
    Star,
    /// `?`: one character but `/`.
    Any,
    /// `**` followed by more pattern: any number of whole directories, `(.*/)?`.
    Dirs,
    /// `**` at the end of the pattern: anything, `.*`.
    Rest,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Matcher {
    pub patterns: Vec<Pattern>,
}

/// Reads a .dockerignore file the way Docker does (moby/patternmatcher/ignorefile).
pub fn parse(text: &str) -> Result<Matcher> {
    let mut patterns = Vec::new();
    for (n, line) in text.strip_prefix('\u{feff}').unwrap_or(text).lines().enumerate() {
        // Comments are recognised before trimming: " # x" is a pattern, as in Docker.
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let exclusion = pattern.starts_with('!');
        if exclusion {
            pattern = pattern[1..].trim();
            if pattern.is_empty() {
                bail!("line {}: illegal exclusion pattern: \"!\"", n + 1);
            }
        }
        let mut cleaned = if pattern.is_empty() { String::new() } else { clean(pattern) };
        if cleaned.len() > 1 && cleaned.starts_with('/') {
            cleaned.remove(0);
        }
        let tokens = compile(&cleaned).map_err(|e| anyhow::anyhow!("line {}: {e}", n + 1))?;
        let suffix =
            cleaned.strip_prefix("**").filter(|rest| !rest.contains(['*', '?', '[', ']', '\\'])).map(str::to_owned);
        let literal = tokens
            .iter()
            .all(|t| matches!(t, Token::Char(_)))
            .then(|| tokens.iter().map(|t| if let Token::Char(c) = t { *c } else { unreachable!() }).collect());
        patterns.push(Pattern { exclusion, tokens, suffix, literal });
    }
    Ok(Matcher { patterns })
}

/// Go's `path.Clean`: collapse `//`, drop `.`, resolve `..`, no trailing `/`.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

fn compile(pattern: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                // `**/` is treated as `**`: the `/` is part of the directories it matches.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i == chars.len() { Token::Rest } else { Token::Dirs });
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::Any),
            '\\' => match chars.get(i) {
                Some(&next) => {
                    tokens.push(Token::Char(next));
                    i += 1;
                }
                None => tokens.push(Token::Char('\\')),
            },
            '[' => {
                let mut negated = false;
                if chars.get(i) == Some(&'^') {
                    negated = true;
                    i += 1;
                }
                let mut items = Vec::new();
                let mut closed = false;
                while i < chars.len() {
                    let mut lo = chars[i];
                    i += 1;
                    if lo == ']' && !items.is_empty() {
                        closed = true;
                        break;
                    }
                    if lo == '\\' && i < chars.len() {
                        lo = chars[i];
                        i += 1;
                    }
                    let mut hi = lo;
                    if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|&c| c != ']') {
                        hi = chars[i + 1];
                        i += 2;
                        if hi == '\\' && i < chars.len() {
                            hi = chars[i];
                            i += 1;
                        }
                    }
                    items.push((lo, hi));
                }
                if !closed {
                    bail!("syntax error in pattern `{pattern}`: unclosed `[`");
                }
                tokens.push(Token::Class { negated, items });
            }
            c => tokens.push(Token::Char(c)),
        }
    }
    Ok(tokens)
}

/// Whether the whole of `s` matches `tokens` (the regular expression anchored at both ends).
fn matches(tokens: &[Token], s: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else { return s.is_empty() };
    match first {
        Token::Char(c) => s.first() == Some(c) && matches(rest, &s[1..]),
        Token::Any => s.first().is_some_and(|&c| c != '/') && matches(rest, &s[1..]),
        Token::Class { negated, items } => {
            s.first().is_some_and(|&c| items.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated)
                && matches(rest, &s[1..])
        }
        Token::Star => {
            let limit = s.iter().position(|&c| c == '/').unwrap_or(s.len());
            (0..=limit).any(|n| matches(rest, &s[n..]))
        }
        Token::Rest => true,
        // `(.*/)?`: nothing, or anything ending in `/`.
        Token::Dirs => matches(rest, s) || (0..s.len()).any(|n| s[n] == '/' && matches(rest, &s[n + 1..])),
    }
}

impl Pattern {
    /// Whether this pattern matches `path` (relative, `/`-separated) itself; `chars` decodes
    /// `path` on first use, once for every pattern.
    fn matches(&self, path: &str, chars: &mut Option<Vec<char>>) -> bool {
        if let Some(literal) = &self.literal {
            return path == literal;
        }
        if let Some(suffix) = &self.suffix {
            return path.ends_with(suffix.as_str()) || suffix.strip_prefix('/').is_some_and(|s| s == path);
        }
        matches(&self.tokens, chars.get_or_insert_with(|| path.chars().collect()))
    }
}

/// Which patterns match a path or one of its parent directories (a pattern that matches a
/// directory matches everything below it). The walk hands a directory's hits to its entries,
/// so each path is matched against each pattern once, not once per parent.
#[derive(Debug, Clone, Default)]
pub struct Hits(Vec<bool>);

impl Matcher {
    /// What `path` matches, given what its directory matched (`Hits::default()` at the root).
    pub fn hits(&self, path: &str, parent: &Hits) -> Hits {
        let mut chars = None;
        Hits(
            self.patterns
                .iter()
                .enumerate()
                .map(|(i, p)| parent.0.get(i).copied().unwrap_or(false) || p.matches(path, &mut chars))
                .collect(),
        )
    }

    /// Whether a path with these hits is excluded from the build context: the last pattern
    /// that matches decides.
    pub fn excluded_by(&self, hits: &Hits) -> bool {
        self.patterns.iter().zip(&hits.0).rev().find(|(_, &hit)| hit).is_some_and(|(p, _)| !p.exclusion)
    }

    /// Whether `path` alone is excluded, its parent directories matched first, as the walk does.
    pub fn excludes(&self, path: &str) -> bool {
        let mut hits = Hits::default();
        for (at, _) in path.match_indices('/') {
            hits = self.hits(&path[..at], &hits);
        }
        self.excluded_by(&self.hits(path, &hits))
    }

    /// Whether the walk must look inside the excluded directory `dir`: only when an `!`
    /// pattern could re-include something below it. Otherwise the whole tree is skipped
    /// without being read (a large node_modules costs nothing).
    pub fn may_reinclude_below(&self, dir: &str) -> bool {
        self.patterns.iter().filter(|p| p.exclusion).any(|p| could_match_below(&p.tokens, dir))
    }
}

/// Whether some path `dir/…` could match `tokens`: `tokens` can consume `dir/` as a prefix.
fn could_match_below(tokens: &[Token], dir: &str) -> bool {
    let prefix: Vec<char> = format!("{dir}/").chars().collect();
    prefix_match(tokens, &prefix)
}

/// Whether `tokens` can consume all of `s` and still have something left to match (or match
/// the rest by `**`).
fn prefix_match(tokens: &[Token], s: &[char]) -> bool {
    if s.is_empty() {
        return true;
    }
    let Some((first, rest)) = tokens.split_first() else { return false };
    match first {
        Token::Char(c) => s[0] == *c && prefix_match(rest, &s[1..]),
        Token::Any => s[0] != '/' && prefix_match(rest, &s[1..]),
        Token::Class { negated, items } => {
            items.iter().any(|&(lo, hi)| lo <= s[0] && s[0] <= hi) != *negated && prefix_match(rest, &s[1..])
        }
        Token::Star => {
            let limit = s.iter().position(|&c| c == '/').unwrap_or(s.len());
            (0..=limit).any(|n| prefix_match(rest, &s[n..]))
        }
        Token::Rest | Token::Dirs => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(rules: &str, path: &str) -> bool {
        parse(rules).unwrap().excludes(path)
    }

    // Cases from moby/patternmatcher's TestMatches (patternmatcher_test.go), which define
    // what Docker means by each pattern. (pattern, path, matches)
    const DOCKER_MATCHES: &[(&str, &str, bool)] = &[
        ("**", "file", true),
        ("**", "file/", true),
        ("**/", "file", true),
        ("**/", "file/", true),
        ("**", "/", true),
        ("**/", "/", true),
        ("**", "dir/file", true),
        ("**/", "dir/file", true),
        ("**", "dir/file/", true),
        ("**/", "dir/file/", true),
        ("**/**", "dir/file", true),
        ("**/**", "dir/file/", true),
        ("dir/**", "dir/file", true),
        ("dir/**", "dir/file/", true),
        ("dir/**", "dir/dir2/file", true),
        ("dir/**", "dir/dir2/file/", true),
        ("**/dir", "dir", true),
        ("**/dir", "dir/file", true),
        ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/*", "dir/dir2/file/", true),
        ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file/", true),
        ("**file", "file", true),
        ("**file", "dir/file", true),
        // Docker's suffix shortcut: not a directory boundary.
        ("**file", "dir/afile", true),
        ("**/file", "dir/file", true),
        ("**file", "dir/dir/file", true),
        ("**/file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file", true),
        ("**/file*", "dir/dir/file.txt", true),
        ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt", "dir/dir/file.txt", true),
        ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false),
        ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true),
        ("a**/*.txt", "a/file.txt", true),
        ("a**/*.txt", "a/dir/file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true),
        ("a/*.txt", "a/dir/file.txt", false),
        ("a/*.txt", "a/file.txt", true),
        ("a/*.txt**", "a/file.txt", true),
        ("a[b-d]e", "ae", false),
        ("a[b-d]e", "ace", true),
        ("a[b-d]e", "aae", false),
        ("a[^b-d]e", "aze", true),
        (".*", ".foo", true),
        (".*", "foo", false),
        ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true),
        ("abc.def", "abcZdef", false),
        ("abc?def", "abcZdef", true),
        ("abc?def", "abcdef", false),
        ("a\\\\", "a\\", true),
        ("**/foo/bar", "foo/bar", true),
        ("**/foo/bar", "dir/foo/bar", true),
        ("**/foo/bar", "dir/dir2/foo/bar", true),
        ("abc/**", "abc", false),
        ("abc/**", "abc/def", true),
        ("abc/**", "abc/def/ghi", true),
        ("**/.foo", ".foo", true),
        ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true),
        ("a(b)c/def", "a(b)c/xyz", false),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        (
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            true,
        ),
        ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
    ];

    #[test]
    fn single_patterns_match_like_docker() {
        for &(pattern, path, want) in DOCKER_MATCHES {
            let m = parse(pattern).unwrap();
            // Docker cleans paths it matches (no trailing `/`); patterns keep what Clean leaves.
            let path = clean(path);
            let path = path.strip_prefix('/').unwrap_or(&path);
            let got = m.excludes(path);
            assert_eq!(got, want, "pattern {pattern:?} on {path:?}");
        }
    }

    #[test]
    fn star_and_question_mark_never_cross_a_slash() {
        assert!(!excluded("*.txt", "dir/file.txt"));
        assert!(excluded("*/*.txt", "dir/file.txt"));
        assert!(!excluded("a?b", "a/b"));
    }

    #[test]
    fn patterns_are_anchored_at_the_context_root_unlike_gitignore() {
        // .gitignore's `foo.txt` matches at any depth; Docker's only at the root.
        assert!(excluded("foo.txt", "foo.txt"));
        assert!(!excluded("foo.txt", "sub/foo.txt"));
        assert!(excluded("**/foo.txt", "sub/foo.txt"));
    }

    #[test]
    fn leading_and_trailing_slashes_are_dropped() {
        assert!(excluded("/build", "build"));
        assert!(excluded("/build/", "build/out.o"));
        // Trailing `/` does not restrict the pattern to directories, as it would in git.
        assert!(excluded("build/", "build"));
        assert!(excluded("./build/../build//", "build/x"));
    }

    #[test]
    fn excluding_a_directory_excludes_its_contents() {
        assert!(excluded("node_modules", "node_modules/react/index.js"));
        assert!(excluded("docs/*", "docs/a/b/c.md"));
        assert!(!excluded("docs/*", "docs"));
    }

    #[test]
    fn exclamation_mark_reincludes_and_the_last_match_wins() {
        let rules = "*.md\n!README.md\n";
        assert!(excluded(rules, "CHANGELOG.md"));
        assert!(!excluded(rules, "README.md"));
        // Order matters: a later pattern takes README.md out again.
        assert!(excluded("*.md\n!README.md\nREADME*\n", "README.md"));
        // A re-included file under an excluded directory (Docker's docs example).
        let rules = "docs\n!docs/keep.md\n";
        assert!(excluded(rules, "docs/other.md"));
        assert!(!excluded(rules, "docs/keep.md"));
    }

    #[test]
    fn exception_inside_excluded_directory_with_double_star() {
        let rules = "**/*.go\n!**/keep.go\n";
        assert!(excluded(rules, "a/b/x.go"));
        assert!(!excluded(rules, "a/b/keep.go"));
    }

    #[test]
    fn comments_blank_lines_and_whitespace() {
        let rules = "# a comment\n\n   \n  spaced.txt  \n";
        let m = parse(rules).unwrap();
        assert_eq!(m.patterns.len(), 1);
        assert!(m.excludes("spaced.txt"));
        // Only a `#` in the first column starts a comment.
        assert!(excluded(" #notcomment", "#notcomment"));
    }

    #[test]
    fn escaping_and_classes() {
        assert!(excluded("\\*.txt", "*.txt"));
        assert!(!excluded("\\*.txt", "a.txt"));
        assert!(excluded("file[0-9]", "file7"));
        assert!(!excluded("file[0-9]", "filex"));
        assert!(parse("file[0-9").is_err());
    }

    #[test]
    fn exclude_everything_then_include_some() {
        let rules = "*\n!src\n!package.json\n";
        assert!(excluded(rules, "node_modules/x"));
        assert!(!excluded(rules, "src/main.ts"));
        assert!(!excluded(rules, "package.json"));
        assert!(excluded(rules, "README.md"));
    }

    #[test]
    fn pruning_only_when_no_exception_can_reach_inside() {
        let m = parse("node_modules\n.next\n!.next/keep\n").unwrap();
        assert!(!m.may_reinclude_below("node_modules"));
        assert!(m.may_reinclude_below(".next"));
        let m = parse("vendor\n!**/*.keep\n").unwrap();
        assert!(m.may_reinclude_below("vendor"));
        let m = parse("a\n!b/*\n").unwrap();
        assert!(!m.may_reinclude_below("a"));
        let m = parse("a\n!a*/x\n").unwrap();
        assert!(m.may_reinclude_below("a"));
    }
}
