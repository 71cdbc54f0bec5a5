//! The checked-in JSON Schema of `.palisade.yaml` is the one generated from the code, and the
//! starter config `palisade init` writes is valid against it.

use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/config.schema.json")
}

#[test]
fn checked_in_schema_is_current() {
    let generated = palisade_config::json_schema();
    let path = schema_path();
    if std::env::var_os("PALISADE_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schemas/config.schema.json is stale: run `PALISADE_UPDATE_SCHEMA=1 cargo test -p palisade_config --test schema` and commit it"
    );
}

#[test]
fn starter_config_is_valid() {
    let schema: serde_json::Value = serde_json::from_str(&palisade_config::json_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let starter: serde_json::Value = serde_saphyr::from_str(palisade_config::STARTER).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&starter)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // And the schema rejects what the loader rejects.
    let bad: serde_json::Value = serde_json::json!({"selct": ["WKL001"]});
    assert!(!validator.is_valid(&bad));
    let bad: serde_json::Value = serde_json::json!({"exceptions": [{"rule": "WKL001"}]});
    assert!(!validator.is_valid(&bad));
    palisade_config::parse(
        palisade_config::STARTER,
        "starter",
        std::path::Path::new("/"),
    )
    .unwrap();
}
