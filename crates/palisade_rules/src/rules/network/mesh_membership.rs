use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Notes, for every Namespace, whether a service mesh takes its pods in, from the labels and
    /// annotations the meshes read:
    ///
    /// - Istio sidecar injection (`istio-injection: enabled`, or a revision label
    ///   `istio.io/rev`) and Istio ambient mode (`istio.io/dataplane-mode: ambient`): `info`;
    /// - Linkerd proxy injection (annotation `linkerd.io/inject: enabled`): `info`;
    /// - an explicit opt-out (`istio-injection: disabled`, `istio.io/dataplane-mode: none`,
    ///   `linkerd.io/inject: disabled`): `low`, since the namespace's traffic then bypasses the
    ///   mesh's mutual TLS and policies while the rest of the estate may rely on them.
    ///   The mesh's own control plane is not reported for opting out: `istio-system` (Istio's
    ///   install labels it `istio-injection: disabled`; istiod and the gateways are not
    ///   sidecar-injected) and the namespace Linkerd's install marks
    ///   `linkerd.io/is-control-plane: "true"` (its pods carry their proxies from the install).
    ///
    /// One note per mesh and namespace, from the setting that mesh obeys (Istio's
    /// `istio-injection` label wins over `istio.io/rev`, sidecars over ambient). Namespaces
    /// without any of these are not reported. Whether mTLS is enforced inside the
    /// mesh is `mesh-mtls-not-strict`'s question.
    ///
    /// ## Why is this bad?
    /// A mesh encrypts and authenticates pod-to-pod traffic only for the pods it manages.
    /// Knowing which namespaces are in it, and which opted out, tells where mTLS-based
    /// isolation actually applies, and where NetworkPolicies are the only control.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Namespace
    /// metadata:
    ///   name: legacy
    ///   labels: {istio-injection: disabled}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Namespace
    /// metadata:
    ///   name: legacy
    ///   labels: {istio-injection: enabled}
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/security/security-checklist/#network-security
    /// - https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/
    /// - https://istio.io/latest/docs/ambient/usage/add-workloads/
    /// - https://linkerd.io/2/features/proxy-injection/
    pub MeshMembership {
        code: "NET011",
        name: "mesh-membership",
        section: Network,
        severity: Low,
        summary: "Namespace's service mesh membership: in the mesh (noted), or opted out",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

/// How one label or annotation puts a namespace in or out of a mesh.
struct Marker {
    mesh: &'static str,
    annotation: bool,
    key: &'static str,
    /// `None`: any value means "in".
    value: Option<&'static str>,
    member: bool,
    what: &'static str,
}

/// In precedence order within each mesh: Istio's `istio-injection` label wins over
/// `istio.io/rev`, and sidecar injection over ambient mode.
const MARKERS: &[Marker] = &[
    Marker {
        mesh: "istio",
        annotation: false,
        key: "istio-injection",
        value: Some("enabled"),
        member: true,
        what: "Istio sidecar injection",
    },
    Marker {
        mesh: "istio",
        annotation: false,
        key: "istio-injection",
        value: Some("disabled"),
        member: false,
        what: "Istio sidecar injection",
    },
    Marker {
        mesh: "istio",
        annotation: false,
        key: "istio.io/rev",
        value: None,
        member: true,
        what: "Istio sidecar injection (revision label)",
    },
    Marker {
        mesh: "istio",
        annotation: false,
        key: "istio.io/dataplane-mode",
        value: Some("ambient"),
        member: true,
        what: "Istio ambient mode",
    },
    Marker {
        mesh: "istio",
        annotation: false,
        key: "istio.io/dataplane-mode",
        value: Some("none"),
        member: false,
        what: "Istio ambient mode",
    },
    Marker {
        mesh: "linkerd",
        annotation: true,
        key: "linkerd.io/inject",
        value: Some("enabled"),
        member: true,
        what: "Linkerd proxy injection",
    },
    Marker {
        mesh: "linkerd",
        annotation: true,
        key: "linkerd.io/inject",
        value: Some("disabled"),
        member: false,
        what: "Linkerd proxy injection",
    },
];

/// Whether the namespace is the mesh's own control plane, which the mesh's install keeps out
/// of injection on purpose.
fn is_control_plane(mesh: &str, name: &str, labels: &[palisade_k8s::Entry<'_>]) -> bool {
    match mesh {
        "istio" => name == "istio-system",
        "linkerd" => labels
            .iter()
            .any(|e| e.key == "linkerd.io/is-control-plane" && e.value == Some("true")),
        _ => false,
    }
}

impl Rule for MeshMembership {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        if object.kind != "Namespace" || object.api_version != "v1" {
            return;
        }
        let name = object.name().unwrap_or("(unnamed)");
        let labels = object.labels();
        let annotations = object.annotations();
        let mut noted: Vec<&str> = Vec::new();
        for m in MARKERS {
            if noted.contains(&m.mesh) {
                continue;
            }
            let entries = if m.annotation { &annotations } else { &labels };
            let Some(e) = entries.iter().rev().find(|e| e.key == m.key) else {
                continue;
            };
            let Some(value) = e.value.filter(|v| !v.is_empty()) else {
                continue;
            };
            if m.value.is_some_and(|v| v != value) {
                continue;
            }
            if !m.member && is_control_plane(m.mesh, name, &labels) {
                noted.push(m.mesh);
                continue;
            }
            let field = if m.annotation {
                "annotations"
            } else {
                "labels"
            };
            let path = object.path(&["metadata", field, m.key]);
            let builder = cx.report(e.value_node, path);
            if m.member {
                builder
                    .severity(Severity::Info)
                    .message(format!(
                        "namespace `{name}` is in the service mesh: {} (`{}: {value}`)",
                        m.what, m.key
                    ))
                    .remediation(
                        "nothing to change: this notes where the mesh's mutual TLS and \
                         policies apply (check `mesh-mtls-not-strict` for the mTLS mode)",
                    );
            } else {
                builder
                    .message(format!(
                        "namespace `{name}` opts out of the service mesh: {} is off \
                         (`{}: {value}`), so its traffic bypasses the mesh's mutual TLS and \
                         policies",
                        m.what, m.key
                    ))
                    .remediation(format!(
                        "take the namespace into the mesh (remove `{}: {value}`), or isolate it \
                         with NetworkPolicies and document why it stays out",
                        m.key
                    ));
            }
            // One note per mesh: the first marker in precedence order decides.
            noted.push(m.mesh);
        }
    }
}
