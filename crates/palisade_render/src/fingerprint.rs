//! Stable finding fingerprints: they identify a finding by what it is about (rule, file, object,
//! container, field), never by where it sits in the file, so they survive edits that move lines.

use palisade_diagnostics::Finding;

/// The fingerprint scheme's name, used as the SARIF `partialFingerprints` key and recorded in
/// baseline files. A change to what is hashed gets a new name.
pub const FINGERPRINT_KEY: &str = "palisade/v1";

/// 64-bit FNV-1a, run twice with different offsets for 128 bits. Fixed by this file, so
/// fingerprints do not change with the Rust version (unlike `DefaultHasher`).
struct Fnv2(u64, u64);

impl Fnv2 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325, 0x6c62_272e_07bb_0142)
    }

    fn field(&mut self, s: &str) {
        for &b in s.as_bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
            self.1 = (self.1 ^ u64::from(b)).wrapping_mul(Self::PRIME);
        }
        // A separator that cannot occur in UTF-8 text keeps ("ab","c") apart from ("a","bc").
        self.0 = (self.0 ^ 0xff).wrapping_mul(Self::PRIME);
        self.1 = (self.1 ^ 0xff).wrapping_mul(Self::PRIME);
    }
}

/// The fingerprint of a finding: 32 hex digits over the rule code, the file, the object's kind,
/// namespace and name, the container and the field path (with its missing part). Line and
/// column numbers, messages and severities are left out on purpose.
pub fn fingerprint(f: &Finding) -> String {
    let mut h = Fnv2::new();
    h.field(f.code);
    h.field(f.file.as_deref().unwrap_or(""));
    // The API group/version is left out: moving `extensions/v1beta1` to `apps/v1` is the same
    // object.
    h.field(&f.resource.kind);
    h.field(f.resource.namespace.as_deref().unwrap_or(""));
    h.field(f.resource.name.as_deref().unwrap_or(""));
    match &f.container {
        Some(c) => {
            h.field(c.kind.as_str());
            h.field(&c.name);
        }
        None => h.field(""),
    }
    h.field(&f.path);
    h.field(f.missing.as_deref().unwrap_or(""));
    format!("{:016x}{:016x}", h.0, h.1)
}
