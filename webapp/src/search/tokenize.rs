//! The package-name tokenizer: `@babel/preset-env` -> babel preset env, `lodash.merge` ->
//! lodash merge, `isPlainObject` -> is plain object, `vue3` -> vue 3, `XMLHttpRequest` ->
//! xml http request. Lowercases what it emits.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Splits on every non-alphanumeric character, on camelCase humps and between letters
/// and digits.
#[derive(Clone, Default)]
pub struct NameTokenizer {
    token: Token,
    // reused between calls: tokenizing allocates nothing once warm
    spans: Vec<(usize, usize)>,
}

pub struct NameTokenStream<'a> {
    text: &'a str,
    spans: &'a [(usize, usize)],
    next: usize,
    token: &'a mut Token,
}

impl Tokenizer for NameTokenizer {
    type TokenStream<'a> = NameTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> NameTokenStream<'a> {
        self.token.reset();
        split_words(text, &mut self.spans);
        NameTokenStream { text, spans: &self.spans, next: 0, token: &mut self.token }
    }
}

impl TokenStream for NameTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&(from, to)) = self.spans.get(self.next) else { return false };
        self.next += 1;
        let token = &mut *self.token;
        token.position = token.position.wrapping_add(1);
        token.offset_from = from;
        token.offset_to = to;
        token.text.clear();
        let word = &self.text[from..to];
        if word.is_ascii() {
            token.text.push_str(word);
            token.text.make_ascii_lowercase();
        } else {
            token.text.extend(word.chars().flat_map(char::to_lowercase));
        }
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Class {
    Separator,
    Lower,
    Upper,
    Digit,
}

fn classify(c: char) -> Class {
    if !c.is_alphanumeric() {
        Class::Separator
    } else if c.is_uppercase() {
        Class::Upper
    } else if c.is_alphabetic() {
        // lowercase, and scripts without case
        Class::Lower
    } else {
        Class::Digit
    }
}

/// Byte spans of the words of `text`, in order.
fn split_words(text: &str, spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    let mut start: Option<usize> = None;
    let mut prev = Class::Separator;
    let mut prev_at = 0;
    let mut upper_run = 0;
    for (at, c) in text.char_indices() {
        let class = classify(c);
        match (start, class) {
            (None, Class::Separator) => {}
            (Some(from), Class::Separator) => {
                spans.push((from, at));
                start = None;
            }
            (None, _) => start = Some(at),
            (Some(from), _) => match (prev, class) {
                (Class::Lower, Class::Upper)
                | (Class::Digit, Class::Lower | Class::Upper)
                | (Class::Lower | Class::Upper, Class::Digit) => {
                    spans.push((from, at));
                    start = Some(at);
                }
                // `XMLHttp`: the last capital of a run starts the next word
                (Class::Upper, Class::Lower) if upper_run >= 2 => {
                    spans.push((from, prev_at));
                    start = Some(prev_at);
                }
                _ => {}
            },
        }
        upper_run = if class == Class::Upper { upper_run + 1 } else { 0 };
        prev = class;
        prev_at = at;
    }
    if let Some(from) = start {
        spans.push((from, text.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut tokenizer = NameTokenizer::default();
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    #[test]
    fn splits_npm_names() {
        assert_eq!(words("@babel/preset-env"), ["babel", "preset", "env"]);
        assert_eq!(words("lodash.merge"), ["lodash", "merge"]);
        assert_eq!(words("isPlainObject"), ["is", "plain", "object"]);
        assert_eq!(words("XMLHttpRequest"), ["xml", "http", "request"]);
        assert_eq!(words("JSONStream"), ["json", "stream"]);
        assert_eq!(words("vue3-router"), ["vue", "3", "router"]);
        assert_eq!(words("es6_promise"), ["es", "6", "promise"]);
        assert_eq!(words("d3"), ["d", "3"]);
        assert_eq!(words("react"), ["react"]);
        assert_eq!(words("REACT"), ["react"]);
        assert_eq!(words("@types/node"), ["types", "node"]);
    }

    #[test]
    fn junk_and_unicode() {
        assert!(words("(((").is_empty());
        assert!(words("").is_empty());
        assert_eq!(words("a:b:c"), ["a", "b", "c"]);
        assert_eq!(words("ÜberCool"), ["über", "cool"]);
        assert_eq!(words("日本語-kit"), ["日本語", "kit"]);
    }

    #[test]
    fn positions_count_words() {
        let mut tokenizer = NameTokenizer::default();
        let mut stream = tokenizer.token_stream("a-b-c");
        let mut positions = Vec::new();
        while let Some(token) = stream.next() {
            positions.push(token.position);
        }
        assert_eq!(positions, [0, 1, 2]);
    }
}
