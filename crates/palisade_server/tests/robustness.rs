//! Arbitrary input never panics the decoder or the policy, and always gets an answer.

use palisade_server::review::{self, decode};
use palisade_server::{Endpoint, Policy};
use proptest::prelude::*;
use serde_json::{Value, json};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9 :./_-]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("true"),
            Just("yes"),
            Just("0"),
            Just("{{ .Values.x }}"),
            Just("ALL"),
            Just("privileged"),
            Just("SYS_ADMIN"),
            Just("/var/run/docker.sock"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("apiVersion".to_owned()),
                        Just("kind".to_owned()),
                        Just("metadata".to_owned()),
                        Just("spec".to_owned()),
                        Just("template".to_owned()),
                        Just("containers".to_owned()),
                        Just("securityContext".to_owned()),
                        Just("privileged".to_owned()),
                        Just("hostPID".to_owned()),
                        Just("volumes".to_owned()),
                        Just("name".to_owned()),
                        Just("image".to_owned()),
                        "[a-z]{1,6}",
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn pod_like() -> impl Strategy<Value = Value> {
    (arb_json(), arb_json(), prop::bool::ANY).prop_map(|(spec, sc, pod)| {
        let mut o = if pod {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": {"containers": [{"name": "c", "image": "x", "securityContext": sc}]}})
        } else {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"template": {"spec": spec}}})
        };
        if let Some(m) = o.as_object_mut() {
            m.insert("extra".into(), json!(null));
        }
        o
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_decode_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        match decode(&bytes) {
            Ok(r) => prop_assert!(!r.uid.is_empty()),
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }

    #[test]
    fn any_review_shape_decodes_or_fails_cleanly(v in arb_json(), uid in "[a-z0-9-]{0,8}") {
        let body = serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": uid, "kind": v.clone(), "operation": "CREATE", "object": v},
        })).unwrap();
        let _ = decode(&body);
        // Cutting a valid body anywhere gives an error, never a panic.
        for cut in [1, body.len() / 3, body.len() / 2, body.len() - 1] {
            prop_assert!(decode(&body[..cut]).is_err());
        }
    }

    #[test]
    fn any_object_gets_an_answer(object in pod_like()) {
        let policy = Policy::new(None).unwrap();
        let body = serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "namespace": "ns", "operation": "CREATE", "object": object,
            },
        })).unwrap();
        let req = decode(&body).unwrap();
        for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
            let d = policy.review(endpoint, &req);
            let out: Value = serde_json::from_slice(
                &review::encode(req.api_version, &req.uid, &d.response)).unwrap();
            prop_assert_eq!(&out["response"]["uid"], "u");
            if let Some(ops) = &d.response.patch {
                // The patch applies to the object as sent.
                let patch: json_patch::Patch =
                    serde_json::from_value(Value::Array(ops.clone())).unwrap();
                let mut o = req.object.clone().unwrap();
                o["metadata"]["namespace"] = json!("ns");
                prop_assert!(json_patch::patch(&mut o, &patch).is_ok(), "{:?}", ops);
            }
        }
    }
}
