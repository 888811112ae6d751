//! Serde adapter: a `BTreeMap<String, String>` stored as an array of `[key, value]`
//! pairs, so that keys from registry documents are never BSON field names (a key like
//! `$where` or `a.b` would be rejected by the server or read as a path). `serde_with`'s
//! `Seq<(_, _)>` does the work; a null (written by no current version) reads as empty.

use std::collections::BTreeMap;

use serde::{Deserializer, Serializer};
use serde_with::{As, DefaultOnNull, Same, Seq};

type Pairs = DefaultOnNull<Seq<(Same, Same)>>;

pub fn serialize<S: Serializer>(map: &BTreeMap<String, String>, s: S) -> Result<S::Ok, S::Error> {
    As::<Pairs>::serialize(map, s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    As::<Pairs>::deserialize(d)
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

    #[test]
    fn null_reads_as_empty() {
        let doc = mongodb::bson::doc! { "m": mongodb::bson::Bson::Null };
        let back: Holder = mongodb::bson::from_document(doc).expect("deserialize");
        assert!(back.m.is_empty());
    }
}
