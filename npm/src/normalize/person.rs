//! `author`, `maintainers`, `contributors`: strings like `Name <email> (url)` or objects.
//!
//! npm (normalize-package-data `fixPeople`) turns an object into a string and parses it
//! back, so `{name: "A (x)"}` gains a url `x`; we do the same to show what npm shows.
use nodules_store::model::Person;
use serde_json::Value;

use super::Warnings;
use super::fields::js_trim;
use super::limits::{MAX_ENTRIES, MAX_SHORT, truncate};

/// One person from a string or an object; `None` (with a warning) for other shapes, and
/// `None` for a person with nothing in it (npm's `{}`).
pub fn person(v: &Value, field: &str, w: &mut Warnings) -> Option<Person> {
    let unparsed;
    let s = match v {
        Value::String(s) => s.as_str(),
        Value::Object(_) => {
            unparsed = unparse_person(v, field, w);
            unparsed.as_str()
        }
        Value::Null => return None,
        other => {
            w.wrong_type(field, other, "string or object");
            return None;
        }
    };
    let parsed = parse_person(s);
    let cap = |s: Option<&str>| s.map(|s| truncate(s, MAX_SHORT));
    let person = Person { name: cap(parsed.name), email: cap(parsed.email), url: cap(parsed.url) };
    (person != Person::default()).then_some(person)
}

/// A list of people (an array; a single string or object counts as a one-element list).
pub fn people(v: Option<&Value>, field: &str, w: &mut Warnings) -> Vec<Person> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(|p| person(p, field, w)).take(MAX_ENTRIES).collect(),
        Some(one @ (Value::String(_) | Value::Object(_))) => person(one, field, w).into_iter().collect(),
        Some(other) => {
            w.wrong_type(field, other, "array of people");
            Vec::new()
        }
    }
}

/// The parts of a person string, borrowed from it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedPerson<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub url: Option<&'a str>,
}

/// fixer.js `parsePerson`: the name is everything before the first `(` or `<`, trimmed; the
/// e-mail is the first `<…>` and the url the first `(…)`, both untrimmed.
pub fn parse_person(s: &str) -> ParsedPerson<'_> {
    let name_end = s.find(['(', '<']).unwrap_or(s.len());
    let name = Some(js_trim(&s[..name_end])).filter(|n| !n.is_empty());
    ParsedPerson { name, email: first_enclosed(s, '<', '>'), url: first_enclosed(s, '(', ')') }
}

/// The first `open [^open close]+ close` in `s`, as the regular expression
/// `/\(([^()]+)\)/` finds it.
fn first_enclosed(s: &str, open: char, close: char) -> Option<&str> {
    let mut from = 0;
    while let Some(start) = s[from..].find(open).map(|i| from + i) {
        let inner = start + open.len_utf8();
        match s[inner..].find([open, close]).map(|i| inner + i) {
            Some(end) if end > inner && s[end..].starts_with(close) => return Some(&s[inner..end]),
            Some(end) => from = end,
            None => return None,
        }
    }
    None
}

/// fixer.js `unParsePerson` on an object: `name <email> (url)`, with npm's `mail` and `web`
/// aliases. Non-string parts are left out with a warning (npm would print them as
/// `[object Object]` or `5`).
fn unparse_person(v: &Value, field: &str, w: &mut Warnings) -> String {
    let name = string_part(v, "name", field, w).unwrap_or("");
    // `person.url || person.web`: an empty url falls through to the alias, as in npm
    let url = string_part(v, "url", field, w).or_else(|| string_part(v, "web", field, w));
    let email = string_part(v, "email", field, w).or_else(|| string_part(v, "mail", field, w));
    let mut out = name.to_string();
    if let Some(e) = email {
        out.push_str(&format!(" <{e}>"));
    }
    if let Some(u) = url {
        out.push_str(&format!(" ({u})"));
    }
    out
}

/// A non-empty string member of a person object; other types are left out with a warning.
fn string_part<'a>(v: &'a Value, key: &str, field: &str, w: &mut Warnings) -> Option<&'a str> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.as_str()),
        Value::String(_) | Value::Null => None,
        other => {
            w.wrong_type(&format!("{field}.{key}"), other, "string");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn p(name: Option<&str>, email: Option<&str>, url: Option<&str>) -> Option<Person> {
        let s = |v: Option<&str>| v.map(str::to_string);
        Some(Person { name: s(name), email: s(email), url: s(url) })
    }

    #[test]
    fn strings() {
        let mut w = Warnings::new();
        let full = json!("Barney Rubble <b@rubble.com> (http://barnyrubble.tumblr.com/)");
        assert_eq!(
            person(&full, "author", &mut w),
            p(Some("Barney Rubble"), Some("b@rubble.com"), Some("http://barnyrubble.tumblr.com/"))
        );
        assert_eq!(person(&json!("  Just Name  "), "author", &mut w), p(Some("Just Name"), None, None));
        assert_eq!(person(&json!("(http://x.org)"), "author", &mut w), p(None, None, Some("http://x.org")));
        assert_eq!(person(&json!("A< a@b.c >"), "author", &mut w), p(Some("A"), Some(" a@b.c "), None));
        assert_eq!(person(&json!("A (x (y) z)"), "author", &mut w), p(Some("A"), None, Some("y")));
        assert_eq!(person(&json!("A <> <e@x.y>"), "author", &mut w), p(Some("A"), Some("e@x.y"), None));
        assert_eq!(person(&json!("   "), "author", &mut w), None);
        assert!(w.is_empty());
    }

    #[test]
    fn objects_round_trip_like_npm() {
        let mut w = Warnings::new();
        let o = json!({"name": " Fred ", "mail": "f@x.org", "web": "https://f.org"});
        assert_eq!(person(&o, "author", &mut w), p(Some("Fred"), Some("f@x.org"), Some("https://f.org")));
        // the name's parentheses become the url, as npm's string round trip does
        let o = json!({"name": "A (team)", "url": "https://a.org"});
        assert_eq!(person(&o, "author", &mut w), p(Some("A"), None, Some("team")));
        let o = json!({"name": "B", "email": 5, "url": ""});
        assert_eq!(person(&o, "author", &mut w), p(Some("B"), None, None));
        assert_eq!(w.len(), 1);
        assert_eq!(person(&json!({}), "author", &mut w), None);
    }

    #[test]
    fn other_types_and_lists() {
        let mut w = Warnings::new();
        assert_eq!(person(&json!(5), "author", &mut w), None);
        assert_eq!(w.len(), 1);
        let list = json!(["a <a@x.y>", {"name": "b"}, null, 7]);
        assert_eq!(people(Some(&list), "maintainers", &mut w).len(), 2);
        assert_eq!(people(Some(&json!("solo")), "contributors", &mut w).len(), 1);
        assert!(people(Some(&json!(true)), "contributors", &mut w).is_empty());
        let many = Value::Array(vec![json!("x"); MAX_ENTRIES + 5]);
        assert_eq!(people(Some(&many), "maintainers", &mut w).len(), MAX_ENTRIES);
    }
}
