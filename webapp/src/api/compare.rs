//! `GET /api/v1/compare?packages=a,b`: the compare page's facts as JSON.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::compare::names::{MAX_CHARS, NamesError};
use crate::compare::{CompareJson, compare, parse};
use crate::error::{ApiError, AppError};
use crate::params::text;
use crate::respond::{CachePolicy, json};
use crate::state::AppState;

/// 2 to 4 packages side by side: each one's latest version's facts (description, license,
/// dependents, install size, types, module system, install scripts, engines, deprecation,
/// GitHub activity) and which of them depends on another. A repeated name counts once; a
/// package not indexed is an entry with `state: not_found`; when none is indexed, 404.
#[utoipa::path(
    get,
    path = crate::routes::API_COMPARE,
    params(
        // the pattern, too long to write here, is added by `document_pattern`
        ("packages" = String, Query, min_length = 3, max_length = 859,
         description = "2 to 4 package names, comma separated (`react,preact,@scope/name`)"),
    ),
    responses(
        (status = 200, description = "The packages, in the order asked", body = CompareJson),
        (status = 400, description = "Missing `packages`, fewer than 2 or more than 4 names, or one that is not a package name", body = crate::error::ErrorBody),
        (status = 404, description = "None of the packages is indexed, or a name over 214 bytes", body = crate::error::ErrorBody),
    )
)]
pub async fn api_compare(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let raw = text("packages", q.get("packages").map(String::as_str), MAX_CHARS)?
        .ok_or(AppError::MissingParam { name: "packages" })?;
    let names = parse(raw).map_err(|e| match e {
        NamesError::Invalid(name) => AppError::InvalidName(name),
        e => AppError::InvalidParam {
            name: "packages",
            value: raw.chars().take(100).collect(),
            expected: format!("2 to 4 package names, comma separated ({e})"),
        },
    })?;
    let facts = compare(&app, &names).await?;
    if facts.none_found() {
        return Err(AppError::NoneIndexed { names: names.join(", ") }.into());
    }
    // about several packages: kept a minute, not until one of them changes
    Ok(json(CachePolicy::Global(None), &facts)?)
}

/// Adds the form of `?packages=` ([`crate::compare::names::pattern`], the one the handler
/// applies) to the generated document.
pub fn document_pattern(doc: &mut Value) {
    let params = doc.pointer_mut("/paths/~1api~1v1~1compare/get/parameters").and_then(Value::as_array_mut);
    for p in params.into_iter().flatten().filter(|p| p["name"] == "packages") {
        if let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) {
            schema.insert("pattern".into(), json!(crate::compare::names::pattern()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_states_the_names_pattern_and_bounds() {
        let doc = crate::api::openapi::document();
        let p = &doc["paths"]["/api/v1/compare"]["get"]["parameters"][0];
        assert_eq!(p["name"], "packages");
        assert_eq!(p["required"], true);
        assert_eq!(p["schema"]["pattern"], json!(crate::compare::names::pattern()));
        assert_eq!(p["schema"]["maxLength"], json!(MAX_CHARS));
    }
}
