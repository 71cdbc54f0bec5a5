use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Istio `PeerAuthentication` policies (`security.istio.io`, any version) whose
    /// `mtls.mode` is `DISABLE` (`high`) or `PERMISSIVE` (`medium`), and the same modes in
    /// `portLevelMtls`. A policy in the mesh's root namespace (usually `istio-system`)
    /// without a selector sets the mode for the whole mesh, and the message says so.
    /// `PERMISSIVE` on single ports of selected workloads is reported at `low`: it is how
    /// webhooks stay reachable by the API server, which is outside the mesh.
    ///
    /// ## Why is this bad?
    /// With `DISABLE` the workloads accept plain text; with `PERMISSIVE` they accept plain
    /// text as well as mTLS, so any pod outside the mesh (or one that skips its sidecar)
    /// can talk to them unauthenticated and unencrypted, and authorization policies based on
    /// peer identities can be bypassed. `PERMISSIVE` is meant for migrations, not as a
    /// steady state.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: security.istio.io/v1
    /// kind: PeerAuthentication
    /// metadata:
    ///   name: default
    ///   namespace: istio-system
    /// spec:
    ///   mtls:
    ///     mode: PERMISSIVE
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   mtls:
    ///     mode: STRICT
    /// ```
    ///
    /// ## References
    /// - https://istio.io/latest/docs/reference/config/security/peer_authentication/
    /// - https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
    pub MeshMtlsNotStrict {
        code: "NET010",
        name: "mesh-mtls-not-strict",
        section: Network,
        severity: High,
        summary: "Istio PeerAuthentication disables mTLS or leaves it permissive",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for MeshMtlsNotStrict {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        if object.kind != "PeerAuthentication" || object.group() != "security.istio.io" {
            return;
        }
        let doc = cx.doc();
        let Some(spec) = object.get(&["spec"]) else {
            return;
        };
        let name = object.name().unwrap_or("(unnamed)");
        let ns = object.namespace();
        let has_selector = doc
            .get(spec, "selector")
            .is_some_and(|s| !doc.entries(s).is_empty());
        let scope = match (has_selector, ns) {
            (true, _) => "the workloads it selects".to_owned(),
            (false, Some("istio-system")) => {
                "the whole mesh (a selector-less policy in the root namespace)".to_owned()
            }
            (false, Some(n)) => format!("every workload of namespace `{n}`"),
            (false, None) => "every workload of its namespace".to_owned(),
        };
        let mut spots: Vec<(NodeId, FieldPath, String)> = Vec::new();
        if let Some(mode) = doc.path(spec, &["mtls", "mode"]) {
            spots.push((mode, object.path(&["spec", "mtls", "mode"]), String::new()));
        }
        if let Some(ports) = doc.get(spec, "portLevelMtls") {
            for &(k, v) in doc.entries(ports) {
                let port = doc.text_of(k).unwrap_or("").to_owned();
                if let Some(mode) = doc.get(v, "mode") {
                    spots.push((
                        mode,
                        object.path(&["spec", "portLevelMtls", &port, "mode"]),
                        format!(" on port {port}"),
                    ));
                }
            }
        }
        for (node, path, port) in spots {
            let (severity, what, effect) = match doc.text_of(node) {
                Some("DISABLE") => (Severity::High, "disables mTLS", "traffic is plain text"),
                Some("PERMISSIVE") => (
                    Severity::Medium,
                    "leaves mTLS permissive",
                    "plain-text, unauthenticated connections are accepted too",
                ),
                _ => continue,
            };
            // One permissive port of selected workloads is the usual way to let the API
            // server (outside the mesh) call a webhook: a narrow, deliberate opening.
            let severity = if severity == Severity::Medium && has_selector && !port.is_empty() {
                Severity::Low
            } else {
                severity
            };
            cx.report(node, path)
                .severity(severity)
                .message(format!(
                    "PeerAuthentication `{name}` {what}{port} for {scope}: {effect}"
                ))
                .remediation(
                    "set `mode: STRICT` once every client has a sidecar (or is in ambient \
                     mode); keep PERMISSIVE only for a migration, on the ports that need it",
                );
        }
    }
}
