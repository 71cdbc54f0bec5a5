//! AdmissionReview decoding, then the review itself and the encoded answer, on arbitrary
//! bytes: nothing may panic, and every decoded request gets an answer that is JSON.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_server::review::{decode, encode};
use palisade_server::{Endpoint, Policy};

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| Policy::new(None).expect("the default policy builds"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(req) = decode(data) else { return };
    for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
        let d = policy().review(endpoint, &req);
        let out = encode(req.api_version, &req.uid, &d.response);
        assert!(serde_json_is_object(&out));
    }
});

fn serde_json_is_object(bytes: &[u8]) -> bool {
    bytes.first() == Some(&b'{') && bytes.last() == Some(&b'}')
}
