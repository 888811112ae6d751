//! Plain fields: capped strings, keywords, string lists and maps, dependencies, bin, engines,
//! and the JavaScript whitespace rules the other normalizers share.
use nodules_store::model::StringMap;
use serde_json::Value;

use super::Warnings;
use super::hosted::Hosted;
use super::limits::{MAX_ENTRIES, MAX_SHORT, MAX_TEXT, truncate};

/// JavaScript's `\s` (and what `String.prototype.trim` removes): not Rust's
/// `char::is_whitespace`, which has U+0085 but lacks U+FEFF.
pub fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

/// JavaScript's `s.trim()`.
pub fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_space)
}

/// JavaScript truthiness of a JSON value (`null`, `false`, `0` and `""` are falsy).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// A string field capped at `max` bytes; other types are dropped with a warning.
pub fn text(v: Option<&Value>, field: &str, max: usize, w: &mut Warnings) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(truncate(s, max)),
        other => {
            w.wrong_type(field, other, "string");
            None
        }
    }
}

/// `keywords`: an array of strings or a comma-separated string.
pub fn keywords(v: Option<&Value>, w: &mut Warnings) -> Vec<String> {
    let mut out = Vec::new();
    let push = |k: &str, out: &mut Vec<String>| {
        // npm keeps the spaces around a keyword; a list of tags reads better without
        let k = js_trim(k);
        if !k.is_empty() && out.len() < MAX_ENTRIES {
            out.push(truncate(k, MAX_SHORT));
        }
    };
    match v {
        None | Some(Value::Null) => {}
        // fixer.js splits on /,\s+/: "a,b" stays one keyword, as in npm
        Some(Value::String(s)) => split_comma_space(s).for_each(|k| push(k, &mut out)),
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => push(s, &mut out),
                    other => w.wrong_type("keywords", other, "string keyword"),
                }
            }
        }
        Some(other) => w.wrong_type("keywords", other, "array or string"),
    }
    out
}

/// JavaScript's `s.split(/,\s+/)`.
fn split_comma_space(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let s = rest?;
        let mut from = 0;
        while let Some(i) = s[from..].find(',').map(|i| from + i) {
            let after = &s[i + 1..];
            let spaces = after.len() - after.trim_start_matches(is_js_space).len();
            if spaces > 0 {
                rest = Some(&after[spaces..]);
                return Some(&s[..i]);
            }
            from = i + 1;
        }
        rest = None;
        Some(s)
    })
}

/// `os`, `cpu`, `files`: an array of strings (a single string counts as one).
pub fn string_list(v: Option<&Value>, field: &str, w: &mut Warnings) -> Vec<String> {
    let items = match v {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items.as_slice(),
        Some(one @ Value::String(_)) => std::slice::from_ref(one),
        Some(other) => {
            w.wrong_type(field, other, "array of strings");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::String(s) if s.is_empty() => {}
            Value::String(s) if out.len() < MAX_ENTRIES => out.push(truncate(s, MAX_SHORT)),
            Value::String(_) => {}
            other => w.wrong_type(field, other, "string entry"),
        }
    }
    out
}

/// `scripts` and other objects of strings; non-string values are dropped.
pub fn string_map(v: Option<&Value>, field: &str, w: &mut Warnings) -> StringMap {
    let mut out = StringMap::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                match v {
                    Value::String(s) => insert(&mut out, k, s, MAX_TEXT),
                    other => w.wrong_type(&format!("{field}.{}", truncate(k, 64)), other, "string"),
                }
            }
        }
        Some(other) => w.wrong_type(field, other, "object"),
    }
    out
}

/// Inserts one capped entry unless the map is full or the key is empty.
fn insert(map: &mut StringMap, key: &str, value: &str, max_value: usize) {
    if !key.is_empty() && map.len() < MAX_ENTRIES {
        map.insert(truncate(key, MAX_SHORT), truncate(value, max_value));
    }
}

/// `engines`: an object, or the legacy array/string forms (`["node >= 0.4"]`).
pub fn engines(v: Option<&Value>, w: &mut Warnings) -> StringMap {
    let items = match v {
        Some(Value::Array(items)) => items.as_slice(),
        Some(one @ Value::String(_)) => std::slice::from_ref(one),
        other => return string_map(other, "engines", w),
    };
    let mut out = StringMap::new();
    for item in items {
        let Value::String(s) = item else {
            w.wrong_type("engines", item, "string entry");
            continue;
        };
        let s = js_trim(s);
        // "node >= 0.4", "node>=0.4": the name ends where the range starts
        let end = s.find(|c: char| is_js_space(c) || "<>=~^".contains(c)).unwrap_or(s.len());
        let (name, range) = (&s[..end], js_trim(&s[end..]));
        if name.is_empty() {
            w.push("engines", "entry without an engine name");
        } else {
            insert(&mut out, name, if range.is_empty() { "*" } else { range }, MAX_SHORT);
        }
    }
    out
}

/// One of the four dependency maps: an object, or the legacy array/string forms
/// (fixer.js `depObjectify`). Hosted git specs are rewritten as npm does
/// (`u/r` → `github:u/r`).
/// Names `peerDependenciesMeta` marks `{"optional": true}`, sorted (at most `MAX_ENTRIES`).
pub fn optional_peers(v: Option<&Value>, w: &mut Warnings) -> Vec<String> {
    let map = match v {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            w.wrong_type("peerDependenciesMeta", other, "object");
            return Vec::new();
        }
    };
    let mut out: Vec<String> = map
        .iter()
        .filter(|(_, meta)| meta.get("optional").and_then(Value::as_bool) == Some(true))
        .map(|(k, _)| truncate(k, MAX_SHORT))
        .take(MAX_ENTRIES)
        .collect();
    out.sort();
    out
}

pub fn dependencies(v: Option<&Value>, field: &str, w: &mut Warnings) -> StringMap {
    let mut out = StringMap::new();
    let v = match v {
        None | Some(Value::Null) => return out,
        Some(v) => v,
    };
    if !truthy(v) {
        w.wrong_type(field, v, "object");
        return out;
    }
    let entries: Vec<(String, String)> = match v {
        Value::Object(map) => map
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                other => {
                    w.wrong_type(&format!("{field}.{}", truncate(k, 64)), other, "string");
                    None
                }
            })
            .collect(),
        Value::String(s) => {
            w.push(field, "deprecated string form");
            let specs = js_trim(s).split(|c: char| c == ',' || is_js_space(c));
            specs.filter(|s| !s.is_empty()).map(legacy_dep).collect()
        }
        Value::Array(items) => {
            w.push(field, "deprecated array form");
            items.iter().filter_map(Value::as_str).map(legacy_dep).collect()
        }
        other => {
            w.wrong_type(field, other, "object");
            return out;
        }
    };
    for (name, spec) in entries {
        if name.is_empty() {
            w.push(field, "entry without a package name");
            continue;
        }
        let spec = match Hosted::from_url(&spec) {
            Some(h) => h.to_string(),
            None => spec,
        };
        insert(&mut out, &name, &spec, MAX_SHORT);
    }
    out
}

/// One `"name@range"` / `"name >= 1"` entry of a legacy list: the name ends at the first
/// `@`, space, `<`, `>` or `=` (or `:` before one of those), as depObjectify splits it.
fn legacy_dep(d: &str) -> (String, String) {
    let d = js_trim(d);
    let is_sep = |c: char| "@<>=".contains(c) || is_js_space(c);
    let mut cut = d.len();
    let mut chars = d.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_sep(c) || (c == ':' && chars.peek().is_some_and(|&(_, n)| is_sep(n))) {
            cut = i;
            break;
        }
    }
    let range = js_trim(&d[cut..]);
    let range = range.strip_prefix('@').unwrap_or(range);
    (d[..cut].to_string(), range.to_string())
}

/// `bin`: an object, or a string meaning one command named after the package (without scope).
pub fn bin(v: Option<&Value>, package_name: &str, w: &mut Warnings) -> StringMap {
    match v {
        Some(Value::String(s)) if !s.is_empty() => {
            // fixer.js: /^@[^/]+[/](.*)$/ — `.` stops at a line break, and then npm keeps
            // the whole name
            let command = package_name
                .strip_prefix('@')
                .and_then(|rest| rest.split_once('/'))
                .filter(|(scope, cmd)| !scope.is_empty() && !cmd.contains(['\n', '\r', '\u{2028}', '\u{2029}']))
                .map_or(package_name, |(_, cmd)| cmd);
            let mut out = StringMap::new();
            if command.is_empty() {
                w.push("bin", "no package name to name the command after");
            }
            insert(&mut out, command, s, MAX_SHORT);
            out
        }
        Some(Value::String(_)) => StringMap::new(),
        other => string_map(other, "bin", w),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(pairs: &[(&str, &str)]) -> StringMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn text_caps_and_rejects_other_types() {
        let mut w = Warnings::new();
        assert_eq!(text(Some(&json!("héllo")), "description", 2, &mut w).as_deref(), Some("h"));
        assert_eq!(text(Some(&json!(["x"])), "description", 10, &mut w), None);
        assert_eq!(text(None, "description", 10, &mut w), None);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn js_whitespace() {
        assert_eq!(js_trim("\u{FEFF} a \u{3000}"), "a");
        assert_eq!(js_trim("\u{85}a"), "\u{85}a");
    }

    #[test]
    fn keywords_array_and_string() {
        let mut w = Warnings::new();
        assert_eq!(keywords(Some(&json!(["a", " b ", "", 3])), &mut w), ["a", "b"]);
        assert_eq!(w.len(), 1);
        assert_eq!(keywords(Some(&json!("a, b,c,\td")), &mut w), ["a", "b,c", "d"]);
        assert!(keywords(Some(&json!({"a": 1})), &mut w).is_empty());
    }

    #[test]
    fn string_lists() {
        let mut w = Warnings::new();
        assert_eq!(string_list(Some(&json!("darwin")), "os", &mut w), ["darwin"]);
        assert_eq!(string_list(Some(&json!(["x64", null, ""])), "cpu", &mut w), ["x64"]);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn string_maps_drop_non_strings() {
        let mut w = Warnings::new();
        let m = string_map(Some(&json!({"test": "jest", "x": 1, "": "y"})), "scripts", &mut w);
        assert_eq!(m, map(&[("test", "jest")]));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn engines_shapes() {
        let mut w = Warnings::new();
        let node = map(&[("node", ">= 0.4")]);
        assert_eq!(engines(Some(&json!({"node": ">= 0.4"})), &mut w), node);
        assert_eq!(engines(Some(&json!(["node >= 0.4"])), &mut w), node);
        assert_eq!(engines(Some(&json!("node >= 0.4")), &mut w), node);
        assert_eq!(engines(Some(&json!(["node>=0.4", "npm"])), &mut w), map(&[("node", ">=0.4"), ("npm", "*")]));
        assert!(w.is_empty());
    }

    #[test]
    fn dependency_shapes() {
        let mut w = Warnings::new();
        let deps = |v: Value, w: &mut Warnings| dependencies(Some(&v), "dependencies", w);
        assert_eq!(deps(json!({"a": "^1", "b": 2}), &mut w), map(&[("a", "^1")]));
        assert_eq!(
            deps(json!(["a@1.0.0", "b >= 2", "c", 5]), &mut w),
            map(&[("a", "1.0.0"), ("b", ">= 2"), ("c", "")])
        );
        assert_eq!(deps(json!("a@1 b,c@^2"), &mut w), map(&[("a", "1"), ("b", ""), ("c", "^2")]));
        assert_eq!(deps(json!({"h": "u/r"}), &mut w), map(&[("h", "github:u/r")]));
        assert!(deps(json!(5), &mut w).is_empty());
        assert_eq!(legacy_dep("a:>1"), ("a".to_string(), ":>1".to_string()));
    }

    #[test]
    fn bin_shapes() {
        let mut w = Warnings::new();
        assert_eq!(bin(Some(&json!("./cli.js")), "@s/tool", &mut w), map(&[("tool", "./cli.js")]));
        assert_eq!(bin(Some(&json!("./cli.js")), "tool", &mut w), map(&[("tool", "./cli.js")]));
        assert_eq!(bin(Some(&json!({"a": "x", "b": 1})), "tool", &mut w), map(&[("a", "x")]));
        assert!(bin(Some(&json!(["x"])), "tool", &mut w).is_empty());
        assert_eq!(w.len(), 2);
    }
}
