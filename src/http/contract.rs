//! The published contract: `openapi.yaml` from the repository, served whole, and cut down to
//! the three direct actions for Salesforce External Services (so that registering it does
//! not turn admin routes into Flow actions), in what External Services imports: no response
//! headers, no description over 1,333 characters. Both come from the one file, so they
//! cannot drift apart.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The contract, as written.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

static FULL: LazyLock<Value> =
    LazyLock::new(|| serde_norway::from_str(OPENAPI_YAML).expect("openapi.yaml is valid YAML"));
static ACTIONS: LazyLock<Value> = LazyLock::new(|| actions_only(&FULL));
static ACTIONS_YAML: LazyLock<String> =
    LazyLock::new(|| serde_norway::to_string(&*ACTIONS).expect("JSON values serialise to YAML"));

const YAML: &str = "application/yaml";

pub async fn full_yaml() -> Response {
    ([(header::CONTENT_TYPE, YAML)], OPENAPI_YAML).into_response()
}

pub async fn full_json() -> Response {
    Json(&*FULL).into_response()
}

pub async fn actions_yaml() -> Response {
    ([(header::CONTENT_TYPE, YAML)], ACTIONS_YAML.as_str()).into_response()
}

pub async fn actions_json() -> Response {
    Json(&*ACTIONS).into_response()
}

/// The longest description External Services imports.
pub const MAX_DESCRIPTION_CHARS: usize = 1333;

/// What the actions document says about itself, in place of the full document's longer text.
const ACTIONS_DESCRIPTION: &str = "The three Fastcall Subscriber API actions \
(SubscriberSMSInvocable, SubscriberCallInvocable, SubscriberUserStatusInvocable) as \
fastcall-emulator serves them, for Salesforce External Services. Each takes its inputs as one \
JSON object and answers its output map, or a FastCall.SubscriberAPI.APIException (codes 100 \
to 105). The full contract, with the Salesforce REST shape and the inspection routes, is \
/openapi.yaml on the same server.";

/// The document with only the direct action routes (`/actions/...`) and the components
/// they reference, directly or through other components; without response headers, which
/// External Services does not support, and with a short description of its own.
pub fn actions_only(full: &Value) -> Value {
    let mut document = full.clone();
    let Some(root) = document.as_object_mut() else {
        return document;
    };
    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        paths.retain(|path, _| path.starts_with("/actions/"));
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in operation.values_mut() {
                if let Some(Value::Object(responses)) = operation.get_mut("responses") {
                    responses.values_mut().for_each(drop_headers);
                }
            }
        }
    }
    if let Some(Value::Object(responses)) = root
        .get_mut("components")
        .and_then(|c| c.get_mut("responses"))
    {
        responses.values_mut().for_each(drop_headers);
    }
    let mut wanted = BTreeSet::new();
    collect_refs(root.get("paths").unwrap_or(&Value::Null), &mut wanted);
    // Follow references from component to component until none is new.
    let components = root.get("components").cloned().unwrap_or(Value::Null);
    loop {
        let mut found = BTreeSet::new();
        for reference in &wanted {
            if let Some(component) = resolve(&components, reference) {
                collect_refs(component, &mut found);
            }
        }
        let before = wanted.len();
        wanted.extend(found);
        if wanted.len() == before {
            break;
        }
    }
    if let Some(Value::Object(kinds)) = root.get_mut("components") {
        for (kind, entries) in kinds.iter_mut() {
            // Security schemes are referenced by name, not by `$ref`: keep them all.
            if kind == "securitySchemes" {
                continue;
            }
            if let Value::Object(entries) = entries {
                entries.retain(|name, _| wanted.contains(&format!("#/components/{kind}/{name}")));
            }
        }
        kinds.retain(|_, entries| entries.as_object().is_none_or(|e| !e.is_empty()));
    }
    if let Some(Value::Object(info)) = root.get_mut("info") {
        let title = info
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("fastcall-emulator");
        let title = format!("{title} — actions");
        info.insert("title".into(), Value::String(title));
        info.insert("description".into(), ACTIONS_DESCRIPTION.into());
    }
    document
}

fn drop_headers(response: &mut Value) {
    if let Some(response) = response.as_object_mut() {
        response.remove("headers");
    }
}

fn collect_refs(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                into.insert(reference.clone());
            }
            map.values().for_each(|v| collect_refs(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}

/// The component a local `#/components/{kind}/{name}` reference names.
fn resolve<'a>(components: &'a Value, reference: &str) -> Option<&'a Value> {
    let (kind, name) = reference.strip_prefix("#/components/")?.split_once('/')?;
    components.get(kind)?.get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `description` in `value`, with where it is.
    fn descriptions<'a>(value: &'a Value, at: String, into: &mut Vec<(String, &'a str)>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("description", Value::String(text)) => into.push((at.clone(), text)),
                        _ => descriptions(value, format!("{at}/{key}"), into),
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    descriptions(item, format!("{at}[{i}]"), into);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn the_actions_document_is_what_external_services_imports() {
        let actions = actions_only(&FULL);
        let text = serde_json::to_string(&actions).unwrap();
        assert!(!text.contains("\"headers\""), "response headers are left");
        assert!(
            !actions["components"]
                .as_object()
                .unwrap()
                .contains_key("headers")
        );
        let mut found = Vec::new();
        descriptions(&actions, String::new(), &mut found);
        assert!(found.len() > 10, "{found:?}");
        for (at, text) in found {
            let length = text.chars().count();
            assert!(length <= MAX_DESCRIPTION_CHARS, "{at}: {length} characters");
        }
    }

    #[test]
    fn the_actions_document_keeps_the_actions_and_what_they_reference() {
        let actions = actions_only(&FULL);
        let paths = actions["paths"].as_object().unwrap();
        assert!(!paths.is_empty());
        assert!(
            paths.keys().all(|path| path.starts_with("/actions/")),
            "{:?}",
            paths.keys()
        );
        let mut references = BTreeSet::new();
        collect_refs(&actions, &mut references);
        for reference in references {
            assert!(
                resolve(&actions["components"], &reference).is_some(),
                "{reference} is dangling"
            );
        }
    }
}
