//! Serde adapter: a `BTreeMap<String, String>` stored as an array of `[key, value]`
//! pairs, so that keys from registry documents are never BSON field names (a key like
//! `$where` or `a.b` would be rejected by the server or read as a path).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserializer, Serializer};

pub fn serialize<S: Serializer>(map: &BTreeMap<String, String>, s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(map.len()))?;
    for (k, v) in map {
        seq.serialize_element(&[k, v])?;
    }
    seq.end()
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct PairsVisitor;
    impl<'de> Visitor<'de> for PairsVisitor {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of [key, value] pairs")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut map = BTreeMap::new();
            while let Some((k, v)) = seq.next_element::<(String, String)>()? {
                map.insert(k, v);
            }
            Ok(map)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
    }
    d.deserialize_any(PairsVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Holder {
        #[serde(with = "super")]
        m: BTreeMap<String, String>,
    }

    #[test]
    fn hostile_keys_round_trip_through_bson() {
        let mut m = BTreeMap::new();
        m.insert("$where".to_string(), "1".to_string());
        m.insert("a.b".to_string(), "^2".to_string());
        let h = Holder { m };
        let doc = mongodb::bson::to_document(&h).expect("serialize");
        assert!(doc.get_array("m").is_ok(), "stored as an array: {doc}");
        let back: Holder = mongodb::bson::from_document(doc).expect("deserialize");
        assert_eq!(back, h);
    }
}
