//! Field-shape warnings collected while normalizing one document.
//!
//! A wrong-typed field becomes absent and leaves a warning here; it never rejects the
//! package. The list is capped so a document with a million bad fields stays small.

const MAX_WARNINGS: usize = 50;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Warnings {
    list: Vec<String>,
    dropped: usize,
}

impl Warnings {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` was dropped or changed, and why (`"author"`, `"not a string or object"`).
    pub fn push(&mut self, field: &str, why: impl AsRef<str>) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(format!("{field}: {}", why.as_ref()));
        } else {
            self.dropped += 1;
        }
    }

    /// `field` had a JSON type the normalizer cannot use.
    pub fn wrong_type(&mut self, field: &str, value: &serde_json::Value, expected: &str) {
        self.push(field, format!("expected {expected}, found {}", json_type(value)));
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len() + self.dropped
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(String::as_str)
    }

    /// The warnings as stored on the package record (the overflow as one line).
    pub fn into_vec(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list.push(format!("… and {} more warnings", self.dropped));
        }
        self.list
    }
}

/// JSON type name for messages.
pub fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

impl Warnings {
    /// Takes `other`'s warnings, each prefixed (`versions.1.0.0.author: …`).
    pub fn absorb(&mut self, prefix: &str, other: Warnings) {
        for line in other.list {
            self.push(prefix, line);
        }
        self.dropped += other.dropped;
    }
}
