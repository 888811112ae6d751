//! A JSON object read as `(key, raw value)` pairs, without building a tree.
//!
//! Registry documents reach tens of MB, and most of their bytes (readmes, `_npmUser`,
//! old versions' fields) are never used. Scanning an object into raw slices costs no
//! allocation per value; only the fields a normalizer asks for are parsed, each on its
//! own. That also contains damage: a field nested deeper than serde_json's recursion
//! limit fails alone (it becomes absent with a warning) instead of failing the document,
//! and duplicate keys are tolerated (the last wins, as in JavaScript).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::Warnings;

/// The entries of one JSON object, in document order.
#[derive(Debug, Default)]
pub struct RawObject<'a> {
    entries: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> RawObject<'a> {
    /// Reads `raw` as an object; `None` when it is another JSON type.
    pub fn parse(raw: &'a RawValue) -> Option<RawObject<'a>> {
        if !raw.get().starts_with('{') {
            return None;
        }
        serde_json::from_str(raw.get()).ok()
    }

    /// The raw value of `key` (the last one when the key repeats).
    pub fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// `key` parsed into a JSON value. A value too deeply nested to parse becomes absent
    /// with a warning; `null` is absent.
    pub fn value(&self, key: &str, w: &mut Warnings) -> Option<Value> {
        let raw = self.raw(key)?;
        match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Null) => None,
            Ok(v) => Some(v),
            Err(e) => {
                w.push(key, format!("unreadable ({e})"));
                None
            }
        }
    }

    /// `key` when it is a JSON string (without building a tree for anything else).
    pub fn str(&self, key: &str) -> Option<Cow<'a, str>> {
        let raw = self.raw(key)?;
        if !raw.get().starts_with('"') {
            return None;
        }
        let s: Cow<'a, str> = serde_json::from_str::<BorrowedStr<'a>>(raw.get()).ok()?.0;
        Some(s)
    }

    /// `key` when it is an object.
    pub fn object(&self, key: &str) -> Option<RawObject<'a>> {
        RawObject::parse(self.raw(key)?)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &'a RawValue)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), *v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ObjectVisitor<'a> {
            type Value = RawObject<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<BorrowedStr<'a>, &'a RawValue>()? {
                    entries.push((k.0, v));
                }
                Ok(RawObject { entries })
            }
        }
        d.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

/// A string borrowed from the input when it has no escapes, owned otherwise.
pub struct BorrowedStr<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for StrVisitor<'a> {
            type Value = BorrowedStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(StrVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).expect("valid JSON")
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        let r = raw(r#"{"name":"a","name":"b"}"#);
        let o = RawObject::parse(&r).expect("object");
        assert_eq!(o.str("name").as_deref(), Some("b"));
    }

    #[test]
    fn a_deeply_nested_field_fails_alone() {
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let r = raw(&format!(r#"{{"junk":{deep},"name":"ok"}}"#));
        let o = RawObject::parse(&r).expect("scanning does not recurse");
        let mut w = Warnings::new();
        assert!(o.value("junk", &mut w).is_none());
        assert_eq!(w.len(), 1);
        assert_eq!(o.str("name").as_deref(), Some("ok"));
    }

    #[test]
    fn non_objects_and_escaped_keys() {
        assert!(RawObject::parse(&raw("[1,2]")).is_none());
        assert!(RawObject::parse(&raw("\"x\"")).is_none());
        let r = raw(r#"{"n\u0061me":"x\ny"}"#);
        let o = RawObject::parse(&r).expect("object");
        assert_eq!(o.str("name").as_deref(), Some("x\ny"));
    }
}
