//! Errors of the store: what failed, against which collection or document.

use mongodb::bson::Document;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to MongoDB: {0}")]
    Connect(#[source] Box<mongodb::error::Error>),
    #[error("MongoDB {op} on `{collection}` failed: {source}")]
    Mongo {
        op: &'static str,
        collection: String,
        #[source]
        source: Box<mongodb::error::Error>,
    },
    #[error("cannot encode a record for `{collection}`: {source}")]
    Encode {
        collection: String,
        #[source]
        source: Box<mongodb::bson::ser::Error>,
    },
    #[error("cannot decode a record of `{collection}`: {source}")]
    Decode {
        collection: String,
        #[source]
        source: Box<mongodb::bson::de::Error>,
    },
    #[error("unexpected answer from MongoDB to {op} on `{collection}`: {answer}")]
    Answer { op: &'static str, collection: String, answer: Box<Document> },
    #[error("MongoDB refused writes to `{collection}`: {detail}")]
    Refused { collection: String, detail: String },
}

impl StoreError {
    pub fn mongo(op: &'static str, collection: &str) -> impl FnOnce(mongodb::error::Error) -> StoreError {
        let collection = collection.to_string();
        move |source| StoreError::Mongo { op, collection, source: Box::new(source) }
    }

    /// True when the database could not be reached (as opposed to a rejected operation).
    /// The database could not be reached or refused to start talking.
    pub fn connect(e: mongodb::error::Error) -> StoreError {
        StoreError::Connect(Box::new(e))
    }

    pub fn encode(collection: &str, e: mongodb::bson::ser::Error) -> StoreError {
        StoreError::Encode { collection: collection.to_string(), source: Box::new(e) }
    }

    pub fn decode(collection: &str, e: mongodb::bson::de::Error) -> StoreError {
        StoreError::Decode { collection: collection.to_string(), source: Box::new(e) }
    }

    pub fn is_unavailable(&self) -> bool {
        use mongodb::error::ErrorKind;
        let source = match self {
            StoreError::Connect(e) | StoreError::Mongo { source: e, .. } => e.as_ref(),
            _ => return false,
        };
        matches!(
            *source.kind,
            ErrorKind::ServerSelection { .. } | ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. }
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
