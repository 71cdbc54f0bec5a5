//! AdmissionReview (`admission.k8s.io/v1`, and the identical `v1beta1`) decoding and
//! encoding.
//!
//! Decoding is total: any byte string gives either a [`Request`] or a [`DecodeError`] that
//! says what is wrong and, when the request's `uid` could be read, carries it so the answer
//! can still be a well-formed AdmissionReview. It never panics (a fuzz target and a property
//! test feed it arbitrary bytes). JSON nesting is bounded by serde_json's recursion limit.

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The AdmissionReview versions the server answers; the response uses the request's.
pub const VERSIONS: [&str; 2] = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];

/// `group`, `version`, `kind` of the object under review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// Who sent the request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    pub username: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// One decoded admission request.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The AdmissionReview `apiVersion`, echoed in the response.
    pub api_version: &'static str,
    pub uid: String,
    pub kind: Gvk,
    /// The plural resource (`deployments`), when given.
    pub resource: Option<String>,
    pub sub_resource: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// CREATE, UPDATE, DELETE or CONNECT.
    pub operation: String,
    pub user: UserInfo,
    /// `None` for DELETE and CONNECT.
    pub object: Option<Value>,
    pub old_object: Option<Value>,
    pub dry_run: bool,
}

/// Why a body is not an admission request the server can answer normally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The request's uid when it could be read: the answer is then an AdmissionReview.
    pub uid: Option<String>,
    /// The AdmissionReview version to answer with, when known.
    pub api_version: &'static str,
    pub message: String,
}

fn fail(uid: Option<&str>, api_version: &'static str, message: impl Into<String>) -> DecodeError {
    DecodeError {
        uid: uid.map(str::to_owned),
        api_version,
        message: message.into(),
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Decodes an AdmissionReview request body.
pub fn decode(body: &[u8]) -> Result<Request, DecodeError> {
    let default_version = VERSIONS[0];
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let what = if e.is_eof() {
            "the body ends early (truncated JSON)".to_owned()
        } else {
            format!("the body is not JSON: {e}")
        };
        fail(None, default_version, what)
    })?;
    let Value::Object(mut review) = value else {
        return Err(fail(
            None,
            default_version,
            "the body is not a JSON object: expected an AdmissionReview",
        ));
    };
    let request = match review.remove("request") {
        Some(Value::Object(r)) => Some(r),
        _ => None,
    };
    let uid = request
        .as_ref()
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    let uid_ref = uid.as_deref();
    let api_version = match review.get("apiVersion").and_then(Value::as_str) {
        Some(v) => match VERSIONS.iter().find(|&&k| k == v) {
            Some(&k) => k,
            None => {
                return Err(fail(
                    uid_ref,
                    default_version,
                    format!(
                        "apiVersion `{v}` is not served: send admission.k8s.io/v1 (or v1beta1)"
                    ),
                ));
            }
        },
        None => {
            return Err(fail(
                uid_ref,
                default_version,
                "the body has no `apiVersion`: expected an admission.k8s.io/v1 AdmissionReview",
            ));
        }
    };
    match review.get("kind").and_then(Value::as_str) {
        Some("AdmissionReview") => {}
        Some(k) => {
            return Err(fail(
                uid_ref,
                api_version,
                format!("kind `{k}` is not an AdmissionReview"),
            ));
        }
        None => {
            return Err(fail(
                uid_ref,
                api_version,
                "the body has no `kind`: expected an AdmissionReview",
            ));
        }
    }
    let Some(mut request) = request else {
        return Err(fail(
            None,
            api_version,
            "the AdmissionReview has no `request` object",
        ));
    };
    let Some(uid) = uid else {
        return Err(fail(None, api_version, "the request has no `uid`"));
    };
    let bad = |message: String| fail(Some(&uid), api_version, message);
    let kind = match request.get("kind") {
        Some(Value::Object(k)) => Gvk {
            group: text(k, "group").unwrap_or_default(),
            version: text(k, "version").unwrap_or_default(),
            kind: text(k, "kind").unwrap_or_default(),
        },
        _ => return Err(bad("the request has no `kind` object".to_owned())),
    };
    if kind.kind.is_empty() || kind.version.is_empty() {
        return Err(bad(
            "the request's `kind` lacks `kind` or `version`".to_owned()
        ));
    }
    let Some(operation) = text(&request, "operation") else {
        return Err(bad("the request has no `operation`".to_owned()));
    };
    let object_of = |v: Option<Value>, field: &str| -> Result<Option<Value>, DecodeError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v)),
            Some(_) => Err(bad(format!("the request's `{field}` is not an object"))),
        }
    };
    let object = object_of(request.remove("object"), "object")?;
    let old_object = object_of(request.remove("oldObject"), "oldObject")?;
    if object.is_none() && matches!(operation.as_str(), "CREATE" | "UPDATE") {
        return Err(bad(format!("a {operation} request without an `object`")));
    }
    let user = match request.get("userInfo") {
        Some(Value::Object(u)) => UserInfo {
            username: text(u, "username").unwrap_or_default(),
            groups: u
                .get("groups")
                .and_then(Value::as_array)
                .map(|g| {
                    g.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        },
        _ => UserInfo::default(),
    };
    let resource = match request.get("resource") {
        Some(Value::Object(r)) => text(r, "resource"),
        _ => None,
    };
    Ok(Request {
        api_version,
        kind,
        resource,
        sub_resource: text(&request, "subResource").filter(|s| !s.is_empty()),
        name: text(&request, "name").filter(|s| !s.is_empty()),
        namespace: text(&request, "namespace").filter(|s| !s.is_empty()),
        operation,
        user,
        object,
        old_object,
        dry_run: request
            .get("dryRun")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        uid,
    })
}

/// An admission response, before it is wrapped in its AdmissionReview.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    pub allowed: bool,
    /// The denial (or failure) message and its HTTP-like code.
    pub status: Option<(u16, String)>,
    pub warnings: Vec<String>,
    /// JSON Patch operations (mutating webhook).
    pub patch: Option<Vec<Value>>,
}

impl Response {
    pub fn allow() -> Self {
        Self {
            allowed: true,
            ..Self::default()
        }
    }

    pub fn deny(code: u16, message: String) -> Self {
        Self {
            allowed: false,
            status: Some((code, message)),
            ..Self::default()
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        403 => "Forbidden",
        422 => "Invalid",
        _ => "InternalError",
    }
}

/// The AdmissionReview answering request `uid`.
pub fn encode(api_version: &str, uid: &str, response: &Response) -> Vec<u8> {
    let mut r = Map::new();
    r.insert("uid".into(), json!(uid));
    r.insert("allowed".into(), json!(response.allowed));
    if let Some((code, message)) = &response.status {
        r.insert(
            "status".into(),
            json!({"code": code, "message": message, "reason": reason(*code)}),
        );
    }
    if !response.warnings.is_empty() {
        r.insert("warnings".into(), json!(response.warnings));
    }
    if let Some(patch) = &response.patch {
        let bytes = serde_json::to_vec(patch).unwrap_or_else(|_| b"[]".to_vec());
        r.insert("patchType".into(), json!("JSONPatch"));
        r.insert(
            "patch".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
        );
    }
    let review = json!({
        "apiVersion": api_version,
        "kind": "AdmissionReview",
        "response": Value::Object(r),
    });
    serde_json::to_vec(&review).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(request: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": request,
        }))
        .unwrap()
    }

    #[test]
    fn decodes_a_create() {
        let body = review(json!({
            "uid": "u-1",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["dev", "system:authenticated"]},
            "object": {"apiVersion": "apps/v1", "kind": "Deployment"},
            "oldObject": null,
            "dryRun": true,
        }));
        let r = decode(&body).unwrap();
        assert_eq!(r.uid, "u-1");
        assert_eq!(r.kind.kind, "Deployment");
        assert_eq!(r.resource.as_deref(), Some("deployments"));
        assert_eq!(r.namespace.as_deref(), Some("shop"));
        assert_eq!(r.user.username, "alice");
        assert_eq!(r.user.groups.len(), 2);
        assert!(r.object.is_some() && r.old_object.is_none() && r.dry_run);
    }

    #[test]
    fn errors_keep_the_uid_when_it_can_be_read() {
        let e = decode(&review(json!({"uid": "u-2", "operation": "CREATE"}))).unwrap_err();
        assert_eq!(e.uid.as_deref(), Some("u-2"));
        assert!(e.message.contains("`kind`"), "{}", e.message);
        let e = decode(&review(json!({
            "uid": "u-3", "operation": "CREATE",
            "kind": {"group": "", "version": "v1", "kind": "Pod"}, "object": [1]
        })))
        .unwrap_err();
        assert_eq!(e.uid.as_deref(), Some("u-3"));
        assert!(e.message.contains("not an object"), "{}", e.message);
        let e = decode(&review(json!({
            "uid": "u-4", "operation": "CREATE",
            "kind": {"group": "", "version": "v1", "kind": "Pod"}
        })))
        .unwrap_err();
        assert!(e.message.contains("without an `object`"), "{}", e.message);
    }

    #[test]
    fn errors_without_a_uid() {
        for (body, needle) in [
            (&b""[..], "truncated"),
            (b"{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\"", "truncated"),
            (b"\xff\xfe", "not JSON"),
            (b"[]", "not a JSON object"),
            (b"{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}", "not served"),
            (
                b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Pod\"}",
                "not an AdmissionReview",
            ),
            (
                b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
                "no `request`",
            ),
            (
                b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"\"}}",
                "no `uid`",
            ),
        ] {
            let e = decode(body).unwrap_err();
            assert_eq!(e.uid, None);
            assert!(e.message.contains(needle), "{needle}: {}", e.message);
        }
        let deep = "[".repeat(100_000);
        assert!(decode(deep.as_bytes()).is_err());
    }

    #[test]
    fn encodes_the_patch_in_base64() {
        let mut r = Response::allow();
        r.patch = Some(vec![json!({"op": "add", "path": "/a", "value": 1})]);
        r.warnings.push("w".into());
        let out: Value = serde_json::from_slice(&encode(VERSIONS[0], "u", &r)).unwrap();
        assert_eq!(out["response"]["uid"], "u");
        assert_eq!(out["response"]["patchType"], "JSONPatch");
        let patch = base64::engine::general_purpose::STANDARD
            .decode(out["response"]["patch"].as_str().unwrap())
            .unwrap();
        assert_eq!(patch, br#"[{"op":"add","path":"/a","value":1}]"#);
        let out: Value =
            serde_json::from_slice(&encode(VERSIONS[1], "u", &Response::deny(403, "no".into())))
                .unwrap();
        assert_eq!(out["apiVersion"], "admission.k8s.io/v1beta1");
        assert_eq!(out["response"]["status"]["message"], "no");
        assert_eq!(out["response"]["allowed"], false);
    }
}
