//! The tarball's `package.json` bytes → a JSON object, within a size limit.

use nodules_npm::normalize::warnings::json_type;
use serde_json::Value;

use crate::unpack::size_text;

/// Largest `package.json` read: real ones are a few KB; a 30 MB one is an attack or a
/// mistake, and either way not worth parsing.
pub const MAX_MANIFEST: usize = 1 << 20;

/// Why a `package.json` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("package.json of {size} bytes is over the {} limit", size_text(MAX_MANIFEST as u64))]
    TooLarge { size: usize },
    #[error("package.json is not valid JSON: {detail}")]
    Invalid { detail: String },
    #[error("package.json is a JSON {found}, not an object")]
    NotObject { found: &'static str },
}

/// Parses `package.json` as npm reads it: a UTF-8 byte-order mark is ignored
/// (json-parse-even-better-errors strips it), and the document must be an object.
pub fn parse_manifest(bytes: &[u8]) -> Result<Value, ManifestError> {
    if bytes.len() > MAX_MANIFEST {
        return Err(ManifestError::TooLarge { size: bytes.len() });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: Value = serde_json::from_slice(bytes).map_err(|e| ManifestError::Invalid { detail: e.to_string() })?;
    match value {
        Value::Object(_) => Ok(value),
        other => Err(ManifestError::NotObject { found: json_type(&other) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let v = parse_manifest(b"\xEF\xBB\xBF{\"name\":\"a\"}").expect("an object");
        assert_eq!(v["name"], "a");
    }

    #[test]
    fn oversized_manifests_are_refused_unread() {
        let big = vec![b' '; MAX_MANIFEST + 1];
        let e = parse_manifest(&big).expect_err("too large");
        assert_eq!(e.to_string(), "package.json of 1048577 bytes is over the 1 MiB limit");
    }

    #[test]
    fn non_objects_and_invalid_json_are_refused() {
        assert_eq!(parse_manifest(b"[1]"), Err(ManifestError::NotObject { found: "array" }));
        assert_eq!(
            parse_manifest(b"\"x\"").map_err(|e| e.to_string()),
            Err("package.json is a JSON string, not an object".into())
        );
        let e = parse_manifest(b"{\"name\": ").expect_err("invalid");
        assert!(e.to_string().starts_with("package.json is not valid JSON: EOF"), "{e}");
        assert!(matches!(parse_manifest(b"\xEF\xBB\xBF"), Err(ManifestError::Invalid { .. })));
    }
}
