//! The search syntax: free text (words and quoted phrases) plus qualifiers and filters,
//! parsed leniently. Only a qualifier the user plainly got wrong is an error (a 400);
//! stray punctuation, unknown `key:value` pairs and an unclosed quote are free text.
//!
//! We parse ourselves rather than with `QueryParser::parse_query_lenient`: its syntax
//! (`field:`, `+`/`-`, `AND`/`OR`, ranges, `^boost`) is not ours, and the ranking needs the
//! words apart from the qualifiers.

use nodules_store::model::ModuleType;

/// At most this many words and phrases count; the rest of a pasted paragraph is ignored.
pub const MAX_TEXT_PARTS: usize = 16;

/// A query the user must fix (400), or an index failure (500).
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("`{qualifier}:` needs a value, as in `{qualifier}:{example}`")]
    EmptyQualifier { qualifier: String, example: &'static str },
    #[error("`module:{value}` is not a module type: use module:esm, module:cjs or module:dual")]
    UnknownModuleType { value: String },
    #[error("`{prefix}:{value}` is not a filter: use {expected}")]
    UnknownFilter { prefix: String, value: String, expected: &'static str },
    /// Not the user's fault: answer 500 and log the source, do not show it.
    #[error("the search index could not answer")]
    Index(#[from] tantivy::TantivyError),
}

impl QueryError {
    /// Whether the query itself is wrong (400) rather than the index (500).
    pub fn is_bad_query(&self) -> bool {
        !matches!(self, QueryError::Index(_))
    }
}

/// What the user asked for.
#[derive(Debug, Default, PartialEq)]
pub struct ParsedQuery {
    /// Words and phrases, in order: each must match (a phrase as adjacent words).
    pub text: Vec<String>,
    /// The user typed free text, even if it was only punctuation.
    pub had_text: bool,
    /// `keywords:`, lowercased.
    pub keywords: Vec<String>,
    /// `author:`, lowercased.
    pub authors: Vec<String>,
    /// `maintainer:`, lowercased.
    pub maintainers: Vec<String>,
    /// `license:`, lowercased.
    pub licenses: Vec<String>,
    /// `module:`, one of `esm`, `cjs`, `dual`.
    pub modules: Vec<&'static str>,
    pub is_deprecated: bool,
    pub not_deprecated: bool,
    pub is_archived: bool,
    pub not_archived: bool,
    pub has_types: bool,
}

impl ParsedQuery {
    /// The text as one package name, when it is one word: `React` -> `react`.
    pub fn name_candidate(&self) -> Option<String> {
        match self.text.as_slice() {
            [word] if !word.contains(char::is_whitespace) => Some(word.to_lowercase()),
            _ => None,
        }
    }

    pub fn has_filters(&self) -> bool {
        !(self.keywords.is_empty()
            && self.authors.is_empty()
            && self.maintainers.is_empty()
            && self.licenses.is_empty()
            && self.modules.is_empty())
            || self.is_deprecated
            || self.not_deprecated
            || self.is_archived
            || self.not_archived
            || self.has_types
    }
}

#[derive(Clone, Copy)]
enum Qualifier {
    Keywords,
    Author,
    Maintainer,
    License,
    Module,
    Is,
    Not,
    Has,
}

impl Qualifier {
    fn from_key(key: &str) -> Option<Qualifier> {
        Some(match key.to_ascii_lowercase().as_str() {
            "keywords" | "keyword" => Qualifier::Keywords,
            "author" => Qualifier::Author,
            "maintainer" => Qualifier::Maintainer,
            "license" => Qualifier::License,
            "module" => Qualifier::Module,
            "is" => Qualifier::Is,
            "not" => Qualifier::Not,
            "has" => Qualifier::Has,
            _ => return None,
        })
    }

    fn key(self) -> &'static str {
        match self {
            Qualifier::Keywords => "keywords",
            Qualifier::Author => "author",
            Qualifier::Maintainer => "maintainer",
            Qualifier::License => "license",
            Qualifier::Module => "module",
            Qualifier::Is => "is",
            Qualifier::Not => "not",
            Qualifier::Has => "has",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Qualifier::Keywords => "parser",
            Qualifier::Author | Qualifier::Maintainer => "sindresorhus",
            Qualifier::License => "MIT",
            Qualifier::Module => "esm",
            Qualifier::Is | Qualifier::Not => "deprecated",
            Qualifier::Has => "types",
        }
    }
}

/// Parses `q`; errors only on a qualifier that cannot mean anything.
pub fn parse(q: &str) -> Result<ParsedQuery, QueryError> {
    let mut parsed = ParsedQuery::default();
    let mut rest = q;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix('"') {
            let (phrase, tail) = quoted(after);
            parsed.push_text(phrase);
            rest = tail;
            continue;
        }
        let end = rest.find(|c: char| c.is_whitespace() || c == '"').unwrap_or(rest.len());
        let (token, tail) = rest.split_at(end);
        rest = tail;
        let Some((key, value)) = token.split_once(':') else {
            parsed.push_text(token);
            continue;
        };
        let Some(qualifier) = Qualifier::from_key(key) else {
            // `a:b:c`, `http://…`: just words
            parsed.push_text(token);
            continue;
        };
        let value = if value.is_empty() && rest.starts_with('"') {
            let (value, tail) = quoted(&rest[1..]);
            rest = tail;
            value
        } else {
            value
        };
        parsed.push_qualifier(qualifier, value.trim())?;
    }
    Ok(parsed)
}

/// The text up to the closing quote (or the end: an unclosed quote is fine), and what follows.
fn quoted(after_quote: &str) -> (&str, &str) {
    match after_quote.find('"') {
        Some(close) => (&after_quote[..close], &after_quote[close + 1..]),
        None => (after_quote, ""),
    }
}

impl ParsedQuery {
    fn push_text(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.had_text = true;
        if self.text.len() < MAX_TEXT_PARTS {
            self.text.push(text.to_string());
        }
    }

    fn push_qualifier(&mut self, qualifier: Qualifier, value: &str) -> Result<(), QueryError> {
        if value.is_empty() {
            return Err(QueryError::EmptyQualifier { qualifier: qualifier.key().into(), example: qualifier.example() });
        }
        let lower = value.to_lowercase();
        let unknown =
            |expected| QueryError::UnknownFilter { prefix: qualifier.key().into(), value: value.into(), expected };
        match qualifier {
            Qualifier::Keywords => self.keywords.push(lower),
            Qualifier::Author => self.authors.push(lower),
            Qualifier::Maintainer => self.maintainers.push(lower),
            Qualifier::License => self.licenses.push(lower),
            Qualifier::Module => self.modules.push(
                lower
                    .parse::<ModuleType>()
                    .map_err(|_| QueryError::UnknownModuleType { value: value.into() })?
                    .as_str(),
            ),
            Qualifier::Is if lower == "deprecated" => self.is_deprecated = true,
            Qualifier::Is if lower == "archived" => self.is_archived = true,
            Qualifier::Is => return Err(unknown("is:deprecated or is:archived")),
            Qualifier::Not if lower == "deprecated" => self.not_deprecated = true,
            Qualifier::Not if lower == "archived" => self.not_archived = true,
            Qualifier::Not => return Err(unknown("not:deprecated or not:archived")),
            Qualifier::Has if lower == "types" => self.has_types = true,
            Qualifier::Has => return Err(unknown("has:types")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_and_qualifiers() {
        let q = parse(r#"react "state management" keywords:Hooks author:"Jane Doe" module:ESM license:mit"#)
            .expect("parses");
        assert_eq!(q.text, ["react", "state management"]);
        assert_eq!(q.keywords, ["hooks"]);
        assert_eq!(q.authors, ["jane doe"]);
        assert_eq!(q.modules, ["esm"]);
        assert_eq!(q.licenses, ["mit"]);
        assert!(q.has_filters());
        assert_eq!(q.name_candidate(), None);
    }

    #[test]
    fn filters() {
        let q = parse("is:deprecated not:deprecated has:types maintainer:bob").expect("parses");
        assert!(q.is_deprecated && q.not_deprecated && q.has_types);
        assert_eq!(q.maintainers, ["bob"]);
        assert!(!q.had_text);
    }

    #[test]
    fn lenient_junk_is_text() {
        assert_eq!(parse(r#""unclosed"#).expect("parses").text, ["unclosed"]);
        assert_eq!(parse("(((").expect("parses").text, ["((("]);
        assert_eq!(parse("a:b:c").expect("parses").text, ["a:b:c"]);
        assert_eq!(parse("foo\"bar\" baz").expect("parses").text, ["foo", "bar", "baz"]);
        assert_eq!(parse(r#"author:"unclosed name"#).expect("parses").authors, ["unclosed name"]);
        assert_eq!(parse("  ").expect("parses"), ParsedQuery::default());
        assert_eq!(parse("React").expect("parses").name_candidate().as_deref(), Some("react"));
        assert_eq!(parse(r#""@types/node""#).expect("parses").name_candidate().as_deref(), Some("@types/node"));
    }

    #[test]
    fn mistakes_are_errors() {
        for bad in ["keywords:", "keywords:\"\"", "module:foo", "is:great", "has:bugs", "not:types", "license: MIT"] {
            let err = parse(bad).expect_err(bad);
            assert!(err.is_bad_query(), "{bad}: {err}");
        }
        assert_eq!(
            parse("module:foo").expect_err("unknown").to_string(),
            "`module:foo` is not a module type: use module:esm, module:cjs or module:dual"
        );
        assert_eq!(
            parse("keywords:").expect_err("empty").to_string(),
            "`keywords:` needs a value, as in `keywords:parser`"
        );
    }

    #[test]
    fn long_queries_are_cut() {
        let q = parse(&"word ".repeat(100)).expect("parses");
        assert_eq!(q.text.len(), MAX_TEXT_PARTS);
    }
}
