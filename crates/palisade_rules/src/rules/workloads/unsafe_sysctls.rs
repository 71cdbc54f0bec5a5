use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags sysctls in the pod's `securityContext.sysctls` that are not in the safe set of
    /// the Pod Security Standards for the target Kubernetes version (option `target_version`).
    /// There is one finding per sysctl, at its name. At 1.37 the safe set is
    /// `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
    /// `net.ipv4.ip_unprivileged_port_start`, `net.ipv4.tcp_syncookies`,
    /// `net.ipv4.ping_group_range`, `net.ipv4.ip_local_reserved_ports` (1.27),
    /// `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_fin_timeout`,
    /// `net.ipv4.tcp_keepalive_intvl`, `net.ipv4.tcp_keepalive_probes` (1.29),
    /// `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem` (1.32), `net.ipv4.tcp_slow_start_after_idle`
    /// and `net.ipv4.tcp_notsent_lowat` (1.37). Names are compared as written, as Pod Security
    /// admission compares them: `net/ipv4/tcp_syncookies` is not in the set.
    ///
    /// ## Why is this bad?
    /// A sysctl outside the safe set is either not namespaced, so setting it changes the
    /// kernel for every pod on the node, or not isolated enough to keep one pod from starving
    /// or weakening the others (`kernel.msgmax`, `net.core.somaxconn`,
    /// `net.ipv4.ip_forward`). The kubelet refuses them unless the node allows them
    /// explicitly, and the Pod Security Standards forbid them from the baseline level up.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     sysctls:
    ///       - name: kernel.msgmax
    ///         value: "65536"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     sysctls:
    ///       - name: net.ipv4.ip_local_port_range
    ///         value: "32768 60999"
    /// ```
    /// Tune node-level parameters on the nodes themselves (machine configuration, a tuning
    /// operator), not from application pods.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Sysctls
    /// - Kubernetes documentation: Using sysctls in a Kubernetes Cluster
    pub UnsafeSysctls {
        code: "WKL025",
        name: "unsafe-sysctls",
        section: Workloads,
        severity: Medium,
        summary: "Pod sets a sysctl outside the safe set",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

/// The safe sysctls, with the Kubernetes version from which Pod Security admission accepts
/// each.
const SAFE_SYSCTLS: &[(&str, (u32, u32))] = &[
    ("kernel.shm_rmid_forced", (1, 0)),
    ("net.ipv4.ip_local_port_range", (1, 0)),
    ("net.ipv4.ip_unprivileged_port_start", (1, 0)),
    ("net.ipv4.tcp_syncookies", (1, 0)),
    ("net.ipv4.ping_group_range", (1, 0)),
    ("net.ipv4.ip_local_reserved_ports", (1, 27)),
    ("net.ipv4.tcp_keepalive_time", (1, 29)),
    ("net.ipv4.tcp_fin_timeout", (1, 29)),
    ("net.ipv4.tcp_keepalive_intvl", (1, 29)),
    ("net.ipv4.tcp_keepalive_probes", (1, 29)),
    ("net.ipv4.tcp_rmem", (1, 32)),
    ("net.ipv4.tcp_wmem", (1, 32)),
    ("net.ipv4.tcp_slow_start_after_idle", (1, 37)),
    ("net.ipv4.tcp_notsent_lowat", (1, 37)),
];

/// `Some(since)` for a sysctl in the safe set at some version, `None` otherwise.
fn safe_since(name: &str) -> Option<(u32, u32)> {
    SAFE_SYSCTLS
        .iter()
        .find(|(safe, _)| *safe == name)
        .map(|&(_, since)| since)
}

impl Rule for UnsafeSysctls {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let Some(sysctls) = pod.pod_security(&["sysctls"]) else {
            return;
        };
        let doc = cx.doc();
        let version = cx.settings.target_version;
        for (index, &item) in doc.items(sysctls.node).iter().enumerate() {
            let Some(node) = doc.get(item, "name") else {
                continue;
            };
            let Some(name) = doc.str(node) else {
                continue;
            };
            let since = safe_since(name);
            if since.is_some_and(|since| version >= since) {
                continue;
            }
            let dotted = name.replace('/', ".");
            let (message, remediation) = match since {
                Some((major, minor)) => (
                    format!(
                        "the pod sets the sysctl `{name}`, which is safe only from Kubernetes \
                         {major}.{minor} (target {}.{})",
                        version.0, version.1
                    ),
                    format!(
                        "remove `{name}` until the cluster runs Kubernetes {major}.{minor}, or \
                         set it on the nodes"
                    ),
                ),
                None if name.contains('/') && safe_since(&dotted).is_some_and(|s| version >= s) => {
                    (
                        format!(
                            "the pod sets the sysctl `{name}`: Pod Security admission compares names \
                         as written and only accepts the dotted form `{dotted}`"
                        ),
                        format!("write the name as `{dotted}`"),
                    )
                }
                None => (
                    format!(
                        "the pod sets the sysctl `{name}`, which is outside the safe set: it can \
                         affect the node or other pods"
                    ),
                    format!(
                        "remove `{name}` from the pod and tune it on the nodes if the workload \
                         needs it"
                    ),
                ),
            };
            cx.report(node, sysctls.path.index(index).key("name"))
                .message(message)
                .remediation(remediation)
                .pss(PssLevel::Baseline, "Sysctls");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_since;

    #[test]
    fn safe_set_by_version() {
        assert_eq!(safe_since("kernel.shm_rmid_forced"), Some((1, 0)));
        assert_eq!(safe_since("net.ipv4.tcp_rmem"), Some((1, 32)));
        assert_eq!(safe_since("net.ipv4.tcp_notsent_lowat"), Some((1, 37)));
        assert_eq!(safe_since("kernel.msgmax"), None);
        assert_eq!(safe_since("net.ipv4.tcp_syncookies "), None);
    }
}
