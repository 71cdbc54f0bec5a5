use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Reads the `kube-apiserver` static pods in `kube-system` and reports:
    ///
    /// - `--tls-min-version` set to `VersionTLS10` or `VersionTLS11` (`high`);
    /// - `--tls-cipher-suites` naming a suite with RC4, 3DES or CBC-mode SHA1 (`medium`);
    /// - no `--tls-cert-file`/`--tls-private-key-file` (`medium`): the server then uses a generated
    ///   self-signed certificate that clients cannot verify;
    /// - no `--client-ca-file` (`medium`): client certificates are not verified;
    /// - `--kubelet-certificate-authority` missing (`low`): the API server does not verify the
    ///   kubelets it connects to.
    ///
    /// Whether the server really refuses old TLS is probed by `api-server-accepts-old-tls` (CMP030).
    ///
    /// ## Why is this bad?
    /// TLS 1.0 and 1.1 and the listed suites have practical attacks (BEAST, POODLE, SWEET32). A
    /// server certificate clients cannot verify invites them to skip verification.
    ///
    /// ## Example
    /// ```yaml
    /// - --tls-min-version=VersionTLS10
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - --tls-min-version=VersionTLS12
    /// - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
    /// - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/
    /// - CIS Kubernetes Benchmark 1.2.24-1.2.30
    pub ApiserverTlsSettings {
        code: "CMP024",
        name: "apiserver-tls-settings",
        section: Components,
        severity: High,
        summary: "kube-apiserver serves without its own certificate, accepts TLS below 1.2 or weak cipher suites",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for ApiserverTlsSettings {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
