//! `license` (string, object, array) and the legacy `licenses` array → [`License`], and
//! whether npm takes the text as a valid SPDX expression.
//!
//! Validity is validate-npm-package-license 3.0.4's, which parses with
//! spdx-expression-parse **3.0.1** (its pinned range), ported here token for token:
//! `AND`/`OR`/`WITH` are case-sensitive, only spaces separate tokens, and its identifier
//! scanner searches ahead instead of anchoring (`/[A-Za-z0-9-.]+/` on the rest of the
//! input), which we reproduce on UTF-16 offsets as JavaScript counts them. The `spdx`
//! crate supplies the license and exception ids; its own parser accepts a different
//! language (lowercase operators, `/`, no `DocumentRef`), so it is not used.
use nodules_store::model::License;
use serde_json::Value;

use super::Warnings;
use super::fields::{js_trim, truthy};
use super::limits::{MAX_ENTRIES, MAX_SHORT, truncate};

/// The declared license as text, with `spdx` set when npm accepts it as an SPDX expression.
/// `licenses` (legacy) is read only when `license` is absent or empty.
pub fn license(license: Option<&Value>, licenses: Option<&Value>, w: &mut Warnings) -> Option<License> {
    let (field, v) = match (license.filter(|v| truthy(v)), licenses.filter(|v| truthy(v))) {
        (Some(v), _) => ("license", v),
        (None, Some(v)) => ("licenses", v),
        (None, None) => return None,
    };
    let (text, checked) = match v {
        // npm validates the string as given: "MIT\n" is not valid, though shown as "MIT"
        Value::String(s) => (js_trim(s).to_string(), s.clone()),
        Value::Object(_) => {
            let text = license_type(v, field, w)?;
            (text.clone(), text)
        }
        Value::Array(items) => {
            let mut parts: Vec<String> = Vec::new();
            for item in items.iter().take(MAX_ENTRIES) {
                let part = match item {
                    Value::String(s) => Some(js_trim(s).to_string()),
                    Value::Object(_) => license_type(item, field, w),
                    other => {
                        w.wrong_type(field, other, "string or object entry");
                        None
                    }
                };
                if let Some(p) = part.filter(|p| !p.is_empty() && !parts.contains(p)) {
                    parts.push(p);
                }
            }
            let text = match parts.as_slice() {
                [] => return None,
                [one] => one.clone(),
                // an entry that is itself an expression keeps its meaning inside the OR
                many => {
                    let wrap = |p: &String| {
                        if p.contains(' ') { format!("({p})") } else { p.clone() }
                    };
                    format!("({})", many.iter().map(wrap).collect::<Vec<_>>().join(" OR "))
                }
            };
            (text.clone(), text)
        }
        other => {
            w.wrong_type(field, other, "string, object or array");
            return None;
        }
    };
    if text.is_empty() {
        w.push(field, "empty");
        return None;
    }
    // a cut expression is no longer the declared one
    let spdx = (text.len() <= MAX_SHORT && validate(&checked) == Validity::Spdx).then(|| text.clone());
    Some(License { text: truncate(&text, MAX_SHORT), spdx })
}

/// The `type` of a `{type, url}` license object.
fn license_type(v: &Value, field: &str, w: &mut Warnings) -> Option<String> {
    match v.get("type") {
        Some(Value::String(t)) if !js_trim(t).is_empty() => Some(js_trim(t).to_string()),
        Some(other) if !other.is_null() => {
            w.wrong_type(&format!("{field}.type"), other, "string");
            None
        }
        _ => {
            w.push(field, "object without a type");
            None
        }
    }
}

/// What validate-npm-package-license says about a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// A valid SPDX expression without LicenseRef: `validForNewPackages`.
    Spdx,
    /// `UNLICENSED` / `UNLICENCED`: valid for npm, not SPDX.
    Unlicensed,
    /// `SEE LICENSE IN <file>`: valid for npm, not SPDX.
    InFile,
    /// Anything else, LicenseRef expressions included.
    Invalid,
}

impl Validity {
    /// npm's `validForNewPackages`.
    pub fn valid_for_new_packages(self) -> bool {
        self != Validity::Invalid
    }
}

/// validate-npm-package-license 3.0.4 on `s`.
pub fn validate(s: &str) -> Validity {
    let src: Vec<u16> = s.encode_utf16().collect();
    match scan(&src).and_then(|tokens| Parser { tokens, at: 0 }.expression()) {
        Some(false) => Validity::Spdx,
        Some(true) => Validity::Invalid,
        None if s == "UNLICENSED" || s == "UNLICENCED" => Validity::Unlicensed,
        None if in_file(s) => Validity::InFile,
        None => Validity::Invalid,
    }
}

/// `/^SEE LICEN[CS]E IN (.+)$/`: `.` stops at line terminators.
fn in_file(s: &str) -> bool {
    let rest = s.strip_prefix("SEE LICENSE IN ").or_else(|| s.strip_prefix("SEE LICENCE IN "));
    rest.is_some_and(|r| !r.is_empty() && !r.contains(['\n', '\r', '\u{2028}', '\u{2029}']))
}

/// Ids the `spdx` crate (SPDX list 3.29) knows but spdx-license-ids / spdx-exceptions, and
/// so npm, do not: `NOASSERTION`, GFDL spellings without `-only`/`-or-later`, and exceptions
/// newer than spdx-exceptions 2.5.0 or deprecated in it.
const NOT_IN_NPM_LISTS: &[&str] = &[
    "NOASSERTION",
    "GFDL-1.1-invariants",
    "GFDL-1.1-no-invariants",
    "GFDL-1.2-invariants",
    "GFDL-1.2-no-invariants",
    "GFDL-1.3-invariants",
    "GFDL-1.3-no-invariants",
    "Asterisk-linking-protocols-exception",
    "CGAL-linking-exception",
    "Classpath-exception-2.0-short",
    "Digia-Qt-LGPL-exception-1.1",
    "GPL-3.0-389-ds-base-exception",
    "Google-Patent-WebM",
    "Independent-modules-exception",
    "Nokia-Qt-exception-1.1",
    "PCRE2-exception",
    "RRDtool-FLOSS-exception-2.0",
    "Simple-Library-Usage-exception",
    "Spelling-Provider-LGPL-exception",
    "erlang-otp-linking-exception",
    "harbour-exception",
    "kvirc-openssl-exception",
    "mxml-exception",
    "polyparse-exception",
    "romic-exception",
    "rsync-linking-exception",
    "sqlitestudio-OpenSSL-exception",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Op(&'static str),
    DocumentRef,
    LicenseRef,
    License,
    Exception,
}

const OPERATORS: [&str; 7] = ["WITH", "AND", "OR", "(", ")", ":", "+"];

fn starts_with(src: &[u16], at: usize, s: &str) -> bool {
    let rest = &src[at.min(src.len())..];
    rest.len() >= s.len() && s.bytes().zip(rest).all(|(b, &u)| u16::from(b) == u)
}

/// scan.js `read(/[A-Za-z0-9-.]+/)`: the first run anywhere in the rest, while the offset
/// only moves by the run's length.
fn idstring(src: &[u16], at: &mut usize) -> Option<String> {
    let is_id = |u: u16| u < 128 && (u as u8 == b'-' || u as u8 == b'.' || (u as u8).is_ascii_alphanumeric());
    let start = *at + src.get(*at..)?.iter().position(|&u| is_id(u))?;
    let len = src[start..].iter().take_while(|&&u| is_id(u)).count();
    *at += len;
    // only ASCII was taken
    Some(src[start..start + len].iter().map(|&u| u as u8 as char).collect())
}

fn known(id: &str) -> bool {
    !NOT_IN_NPM_LISTS.contains(&id)
}

/// scan.js: `None` where it throws.
fn scan(src: &[u16]) -> Option<Vec<Token>> {
    let mut at = 0;
    let mut tokens = Vec::new();
    while at < src.len() {
        while src.get(at) == Some(&u16::from(b' ')) {
            at += 1;
        }
        if at >= src.len() {
            break;
        }
        if let Some(op) = OPERATORS.iter().find(|op| starts_with(src, at, op)) {
            at += op.len();
            if *op == "+" && at > 1 && src[at - 2] == u16::from(b' ') {
                return None;
            }
            tokens.push(Token::Op(op));
        } else if starts_with(src, at, "DocumentRef-") {
            at += "DocumentRef-".len();
            idstring(src, &mut at)?;
            tokens.push(Token::DocumentRef);
        } else if starts_with(src, at, "LicenseRef-") {
            at += "LicenseRef-".len();
            idstring(src, &mut at)?;
            tokens.push(Token::LicenseRef);
        } else {
            let id = idstring(src, &mut at)?;
            if spdx::license_id(&id).is_some() && known(&id) {
                tokens.push(Token::License);
            } else if spdx::exception_id(&id).is_some() && known(&id) {
                tokens.push(Token::Exception);
            } else {
                return None;
            }
        }
    }
    Some(tokens)
}

/// parse.js over the tokens. Each parse returns `Err` where JavaScript throws, `Ok(None)`
/// where it returns `undefined`, and `Ok(Some(uses_license_ref))` for a node.
struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

type Parsed = Result<Option<bool>, ()>;

impl Parser {
    /// The whole expression: `Some(uses_license_ref)`, or `None` where parse.js throws.
    fn expression(mut self) -> Option<bool> {
        match self.binary("OR") {
            Ok(Some(uses_ref)) if self.at == self.tokens.len() => Some(uses_ref),
            _ => None,
        }
    }

    fn token(&self) -> Option<Token> {
        self.tokens.get(self.at).copied()
    }

    fn eat(&mut self, op: &'static str) -> bool {
        let hit = self.token() == Some(Token::Op(op));
        if hit {
            self.at += 1;
        }
        hit
    }

    fn binary(&mut self, op: &'static str) -> Parsed {
        let left = if op == "OR" { self.binary("AND")? } else { self.atom()? };
        let Some(left) = left else { return Ok(None) };
        if !self.eat(op) {
            return Ok(Some(left));
        }
        let right = self.binary(op)?.ok_or(())?;
        Ok(Some(left || right))
    }

    fn atom(&mut self) -> Parsed {
        if self.eat("(") {
            let inner = self.binary("OR")?;
            if !self.eat(")") {
                return Err(());
            }
            // `()` yields undefined, and parseAtom goes on to the next alternatives
            if inner.is_some() {
                return Ok(inner);
            }
        }
        if let Some(r) = self.license_ref()? {
            return Ok(Some(r));
        }
        self.license()
    }

    fn license_ref(&mut self) -> Parsed {
        let begin = self.at;
        // parse.js reads `t.type` of a null token: a TypeError
        if self.token().ok_or(())? == Token::DocumentRef {
            self.at += 1;
            if !self.eat(":") {
                return Err(());
            }
        }
        if self.token().ok_or(())? == Token::LicenseRef {
            self.at += 1;
            return Ok(Some(true));
        }
        self.at = begin;
        Ok(None)
    }

    fn license(&mut self) -> Parsed {
        if self.token() != Some(Token::License) {
            return Ok(None);
        }
        self.at += 1;
        self.eat("+");
        if self.eat("WITH") {
            if self.token() != Some(Token::Exception) {
                return Err(());
            }
            self.at += 1;
        }
        Ok(Some(false))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lic(v: Value) -> Option<License> {
        license(Some(&v), None, &mut Warnings::new())
    }

    fn spdx_of(v: Value) -> Option<String> {
        lic(v).and_then(|l| l.spdx)
    }

    #[test]
    fn strings() {
        assert_eq!(lic(json!(" MIT ")), Some(License { text: "MIT".into(), spdx: Some("MIT".into()) }));
        assert_eq!(lic(json!("   ")), None);
        assert_eq!(lic(json!("")), None);
        assert_eq!(spdx_of(json!("mit")), None);
        assert_eq!(lic(json!("BSD")).map(|l| l.text).as_deref(), Some("BSD"));
        assert_eq!(spdx_of(json!("MIT\n")), None);
    }

    #[test]
    fn expressions() {
        for ok in [
            "(MIT OR Apache-2.0)",
            "Apache-2.0 WITH LLVM-exception",
            "GPL-2.0+",
            "GPL-2.0",
            "MIT AND (ISC OR BSD-3-Clause)",
            "(MIT)OR(ISC)",
            "MIT ANDISC",
            "() MIT",
        ] {
            assert_eq!(validate(ok), Validity::Spdx, "{ok}");
        }
        for bad in [
            "MIT or ISC",
            "GPL-2.0 +",
            "LicenseRef-foo",
            "MIT OR LicenseRef-foo",
            "MIT/X11",
            "MIT\tOR ISC",
            "LLVM-exception",
            "MIT WITH",
            "(MIT",
            "NOASSERTION",
            "MIT AND",
            "",
        ] {
            assert_eq!(validate(bad), Validity::Invalid, "{bad}");
        }
    }

    #[test]
    fn special_cases_are_valid_but_not_spdx() {
        assert_eq!(validate("UNLICENSED"), Validity::Unlicensed);
        assert_eq!(validate("SEE LICENSE IN LICENSE.md"), Validity::InFile);
        assert_eq!(validate("SEE LICENSE IN "), Validity::Invalid);
        assert!(Validity::InFile.valid_for_new_packages());
        assert_eq!(spdx_of(json!("UNLICENSED")), None);
    }

    #[test]
    fn objects_and_arrays_become_text() {
        assert_eq!(spdx_of(json!({"type": "MIT", "url": "x"})).as_deref(), Some("MIT"));
        assert_eq!(spdx_of(json!(["MIT", {"type": "Apache-2.0"}])).as_deref(), Some("(MIT OR Apache-2.0)"));
        assert_eq!(
            lic(json!(["MIT AND ISC", "GPL-3.0"])).map(|l| l.text).as_deref(),
            Some("((MIT AND ISC) OR GPL-3.0)")
        );
        assert_eq!(lic(json!([{"type": "MIT"}])).map(|l| l.text).as_deref(), Some("MIT"));
        assert_eq!(lic(json!([])), None);
        assert_eq!(lic(json!({"url": "x"})), None);
        assert_eq!(lic(json!(5)), None);
    }

    #[test]
    fn legacy_licenses_only_when_license_is_absent() {
        let mut w = Warnings::new();
        let legacy = json!([{"type": "MIT"}, {"type": "GPL-2.0"}]);
        let l = license(None, Some(&legacy), &mut w).map(|l| l.text);
        assert_eq!(l.as_deref(), Some("(MIT OR GPL-2.0)"));
        let l = license(Some(&json!("ISC")), Some(&legacy), &mut w).map(|l| l.text);
        assert_eq!(l.as_deref(), Some("ISC"));
    }
}
