//! Shared helpers for the container `securityContext` rules.

use palisade_k8s::{Container, PodSpec, SecurityField};

/// Capabilities the Pod Security Standards baseline level allows a container to add.
pub(crate) const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Capabilities that give a container a path to the host or to other workloads.
pub(crate) const DANGEROUS_CAPABILITIES: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "BPF",
    "PERFMON",
    "SYS_BOOT",
    "NET_RAW",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "SYSLOG",
];

/// A capability name as the container runtime reads it: upper case, without the `CAP_` prefix.
pub(crate) fn capability_name(raw: &str) -> String {
    let upper = raw.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => upper,
    }
}

/// Whether the pod declares itself a Windows pod (`spec.os.name: windows`). The Pod Security
/// Standards exempt such pods from the Linux-only restricted controls (privilege escalation,
/// capabilities, seccomp).
pub(crate) fn is_windows_pod(pod: &PodSpec<'_>) -> bool {
    pod.field(&["os", "name"])
        .and_then(|(node, _)| pod.doc().str(node))
        .is_some_and(|name| name == "windows")
}

/// Why a container can gain privileges whatever `allowPrivilegeEscalation` says, and what to
/// change first: it runs privileged, or it adds `SYS_ADMIN` (or `ALL`). The kubelet then always
/// allows escalation, and the API server rejects `allowPrivilegeEscalation: false` next to
/// either.
pub(crate) struct ImpliedEscalation {
    pub why: &'static str,
    pub fix: &'static str,
}

pub(crate) fn escalation_implied_by(
    pod: &PodSpec<'_>,
    c: &Container<'_>,
) -> Option<ImpliedEscalation> {
    let doc = pod.doc();
    if pod
        .container_security(c, &["privileged"])
        .is_some_and(|f| doc.bool(f.node) == Some(true))
    {
        return Some(ImpliedEscalation {
            why: "it runs privileged",
            fix: "set `securityContext.privileged: false`",
        });
    }
    let add = pod.container_security(c, &["capabilities", "add"])?;
    doc.items(add.node)
        .iter()
        .find_map(|&item| match capability_name(doc.str(item)?).as_str() {
            "SYS_ADMIN" => Some(ImpliedEscalation {
                why: "it adds `SYS_ADMIN`",
                fix: "remove `SYS_ADMIN` from `securityContext.capabilities.add`",
            }),
            "ALL" => Some(ImpliedEscalation {
                why: "it adds `ALL` capabilities, `SYS_ADMIN` among them",
                fix: "remove `ALL` from `securityContext.capabilities.add`",
            }),
            _ => None,
        })
}

/// How a finding about a boolean the container does not set correctly words the field's state:
/// absent, or present with a value the API server would reject.
pub(crate) fn unset_phrase(pod: &PodSpec<'_>, c: &Container<'_>, field: &str) -> String {
    match pod.container_security(c, &[field]) {
        Some(_) => format!("sets `securityContext.{field}` to a value that is not a boolean"),
        None => format!("does not set `securityContext.{field}`"),
    }
}

/// How kubeaudit's `nonroot` auditor decides a container (first matching step wins).
pub(crate) enum NonRoot {
    /// The container's `runAsUser` is 0 (`RunAsUserCSCRoot`).
    ContainerUserRoot(SecurityField),
    /// The pod's `runAsUser` is 0 (`RunAsUserPSCRoot`). `container_user` is the non-zero
    /// container value that overrides it, when there is one (kubeaudit then only warns).
    PodUserRoot {
        pod_user: SecurityField,
        container_user: Option<(SecurityField, i64)>,
    },
    /// The container's `runAsNonRoot` is false (`RunAsNonRootCSCFalse`).
    ContainerFlagFalse(SecurityField),
    /// Neither level sets `runAsNonRoot` (`RunAsNonRootPSCNilCSCNil`).
    FlagUnset,
    /// The pod's `runAsNonRoot` is false and the container does not set it
    /// (`RunAsNonRootPSCFalseCSCNil`).
    PodFlagFalse(SecurityField),
    /// Passes because a non-zero `runAsUser` is set (container's, else pod's), whatever
    /// `runAsNonRoot` says.
    PassesByUser(SecurityField, i64),
    /// Passes because `runAsNonRoot: true` is set at container level, or at pod level and the
    /// container does not set it.
    PassesByFlag,
}

/// A security setting of the container (`Some`) or the pod whose value has the type the API
/// server requires; values of another type count as not set.
fn typed<T>(
    field: Option<SecurityField>,
    read: impl Fn(palisade_yaml::NodeId) -> Option<T>,
) -> Option<(SecurityField, T)> {
    let field = field?;
    let value = read(field.node)?;
    Some((field, value))
}

/// Decides a container as kubeaudit's `nonroot` auditor does (AUDITS.md § nonroot).
pub(crate) fn non_root(pod: &PodSpec<'_>, c: &Container<'_>) -> NonRoot {
    let doc = pod.doc();
    let int = |n| doc.int(n);
    let bool = |n| doc.bool(n);
    let csc_user = typed(pod.container_security(c, &["runAsUser"]), int);
    let psc_user = typed(pod.pod_security(&["runAsUser"]), int);
    match (csc_user, psc_user) {
        (Some((user, 0)), _) => return NonRoot::ContainerUserRoot(user),
        (Some(container_user), Some((pod_user, 0))) => {
            return NonRoot::PodUserRoot {
                pod_user,
                container_user: Some(container_user),
            };
        }
        (Some((user, uid)), _) => return NonRoot::PassesByUser(user, uid),
        (None, Some((pod_user, 0))) => {
            return NonRoot::PodUserRoot {
                pod_user,
                container_user: None,
            };
        }
        (None, Some((user, uid))) => return NonRoot::PassesByUser(user, uid),
        (None, None) => {}
    }
    let csc_flag = typed(pod.container_security(c, &["runAsNonRoot"]), bool);
    let psc_flag = typed(pod.pod_security(&["runAsNonRoot"]), bool);
    match (csc_flag, psc_flag) {
        (Some((flag, false)), _) => NonRoot::ContainerFlagFalse(flag),
        (Some((_, true)), _) | (None, Some((_, true))) => NonRoot::PassesByFlag,
        (None, Some((flag, false))) => NonRoot::PodFlagFalse(flag),
        (None, None) => NonRoot::FlagUnset,
    }
}

/// The effective `runAsNonRoot` of a container (its own value, else the pod's), with where it
/// is set; values that are not booleans count as not set.
pub(crate) fn effective_run_as_non_root(
    pod: &PodSpec<'_>,
    c: &Container<'_>,
) -> Option<(SecurityField, bool)> {
    let doc = pod.doc();
    typed(pod.container_security(c, &["runAsNonRoot"]), |n| {
        doc.bool(n)
    })
    .or_else(|| typed(pod.pod_security(&["runAsNonRoot"]), |n| doc.bool(n)))
}

#[cfg(test)]
mod tests {
    use super::capability_name;

    #[test]
    fn normalises_capability_names() {
        assert_eq!(capability_name("CAP_SYS_ADMIN"), "SYS_ADMIN");
        assert_eq!(capability_name("net_raw"), "NET_RAW");
        assert_eq!(capability_name("all"), "ALL");
        assert_eq!(capability_name("CAP_"), "CAP_");
    }
}
