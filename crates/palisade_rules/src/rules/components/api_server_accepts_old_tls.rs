use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Opens TLS 1.1 and then TLS 1.0 handshakes to the API server with `openssl s_client` (Rust's
    /// TLS library, rustls, cannot speak these versions, by design). A completed handshake is
    /// reported. When `openssl` is missing, or refuses to offer those versions itself, the probe is
    /// reported as an error rather than as a pass.
    ///
    /// ## Why is this bad?
    /// TLS 1.0 and 1.1 have known attacks (BEAST, POODLE downgrade, SHA-1 handshake signatures) and
    /// are deprecated by RFC 8996. A client that can be pushed down to them exposes its credentials.
    ///
    /// ## Example
    /// ```yaml
    /// - --tls-min-version=VersionTLS10
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - --tls-min-version=VersionTLS12
    /// ```
    ///
    /// ## References
    /// - https://datatracker.ietf.org/doc/html/rfc8996
    pub ApiServerAcceptsOldTls {
        code: "CMP030",
        name: "api-server-accepts-old-tls",
        section: Components,
        severity: High,
        summary: "The API server completes a TLS 1.0 or TLS 1.1 handshake",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for ApiServerAcceptsOldTls {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
