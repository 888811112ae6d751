//! The fake GitHub of `tests/github.rs` is not our guess: each kind of answer it gives
//! (`nodules_e2e::github::samples()`) is checked against GitHub's own OpenAPI description,
//! `@octokit/openapi` (`generated/api.github.com.deref.json`: every `$ref` resolved),
//! fetched from npm with the machine's `npm`, as `make test` provides it.

use std::collections::HashMap;

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use nodules_e2e::npm_pack::{npm_pack, tgz_member};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// Pinned, so a new description never fails a build that changed nothing.
const OPENAPI_PACKAGE: &str = "@octokit/openapi@23.0.2";
const DESCRIPTION: &str = "package/generated/api.github.com.deref.json";

/// The description's paths, each left as unparsed text until a sample asks for it: the
/// whole document as a `serde_json::Value` would take many times its 73 MB.
#[derive(Deserialize)]
struct Description<'a> {
    #[serde(borrow)]
    paths: HashMap<String, &'a RawValue>,
}

/// The schema of the `get` answer to `template` with `status`, as JSON Schema.
fn response_schema(description: &Description, template: &str, status: u16) -> Value {
    let item = description.paths.get(template).unwrap_or_else(|| panic!("GitHub's description has no path {template}"));
    let item: Value = serde_json::from_str(item.get()).expect("path item JSON");
    let schema = &item["get"]["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "GitHub's description gives no JSON schema for GET {template} {status}");
    json_schema(schema.clone())
}

/// An OpenAPI 3.0 schema object as JSON Schema (draft 4, which OpenAPI 3.0 extends):
/// `nullable: true` becomes a `null` type. The rest (`example`, `deprecated`, `readOnly`,
/// `discriminator`, `x-…`) are keywords a validator does not know, and ignores.
fn json_schema(mut schema: Value) -> Value {
    let Value::Object(map) = &mut schema else {
        return schema; // `additionalProperties: true`
    };
    for (key, sub) in map.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" => {
                if let Value::Object(props) = sub {
                    for prop in props.values_mut() {
                        *prop = json_schema(prop.take());
                    }
                }
            }
            "items" | "additionalProperties" | "not" => *sub = json_schema(sub.take()),
            "allOf" | "anyOf" | "oneOf" => {
                if let Value::Array(subs) = sub {
                    for s in subs {
                        *s = json_schema(s.take());
                    }
                }
            }
            _ => {} // values, not schemas: `enum`, `example`, `default`, …
        }
    }
    if map.remove("nullable") != Some(Value::Bool(true)) {
        return schema;
    }
    match map.get_mut("type") {
        Some(ty @ Value::String(_)) => {
            *ty = Value::Array(vec![ty.take(), "null".into()]);
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.push(Value::Null);
            }
            schema
        }
        // GitHub writes `nullable` beside a `oneOf`/`allOf` too, meaning "or null", as
        // octokit's generated types read it
        _ => serde_json::json!({ "anyOf": [{ "type": "null" }, schema] }),
    }
}

/// One line per failure: where in the body, which keyword of which schema (a path in the
/// converted schema, where a nullable `oneOf` sits under `anyOf/1`); the failures of each
/// alternative of a failed `anyOf`/`oneOf` below it, indented.
fn describe(e: &ValidationError, prefix: &str, out: &mut Vec<String>) {
    let at = e.instance_path().to_string();
    let at = if at.is_empty() { "the body".to_string() } else { format!("`{at}`") };
    let keyword = e.kind().keyword();
    let message = match e.kind() {
        // their message repeats the whole instance; the alternatives say more
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            "no alternative fits".to_string()
        }
        _ => e.to_string(),
    };
    out.push(format!("{prefix}: at {at}, `{keyword}` fails (schema {}): {message}", e.schema_path()));
    if let ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } = e.kind() {
        let indent = " ".repeat(prefix.len() - prefix.trim_start().len() + 4);
        for (n, errors) in context.iter().enumerate() {
            for sub in errors {
                describe(sub, &format!("{indent}{keyword} alternative {n}"), out);
            }
        }
    }
}

#[test]
fn the_fake_githubs_answers_follow_githubs_openapi_description() {
    let dir = tempfile::tempdir().expect("tmp");
    let bytes = tgz_member(&npm_pack(OPENAPI_PACKAGE, dir.path()), DESCRIPTION);
    let description: Description =
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{OPENAPI_PACKAGE} {DESCRIPTION}: {e}"));

    let mut failures = Vec::new();
    for (i, (template, status, body)) in nodules_e2e::github::samples().into_iter().enumerate() {
        let sample = format!("sample {i}: GET {template} {status}");
        let schema = response_schema(&description, template, status);
        let validator = jsonschema::draft4::options()
            // `date-time`, `uri`, `email` asserted, not just noted; unknown ones (`int64`) ignored
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{sample}: GitHub's schema does not compile: {e}"));
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{sample}: body is not JSON: {e}"));
        for e in validator.iter_errors(&body) {
            describe(&e, &sample, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "the fake GitHub's answers (tests/src/github.rs) break {OPENAPI_PACKAGE}:\n{}",
        failures.join("\n")
    );
}
