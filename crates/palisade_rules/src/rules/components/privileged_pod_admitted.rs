use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// For each audited namespace, asks the API server to create a privileged pod
    /// (`privileged: true`, `hostNetwork`, `hostPID`, a `hostPath` of `/`) with **server-side dry
    /// run** (`dryRun=All`: admission runs in full, nothing is stored). If the request is admitted,
    /// no admission control (Pod Security Admission, a policy engine or a webhook, whoever enforces
    /// it) stops a privileged pod there.
    ///
    /// Namespaces where this is expected (`kube-system`, where node agents run) can be left out
    /// with `--exclude-namespace` or a config exception. The probe needs `create pods` in the
    /// namespace; without it the namespace is reported as not probed (an error naming the missing
    /// permission).
    ///
    /// ## Why is this bad?
    /// Manifest checks say what the manifests ask for; this says what the cluster lets anyone with
    /// `create pods` do. A privileged pod with the host's namespaces and root filesystem is root on
    /// the node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata:
    ///   name: shop        # no pod-security.kubernetes.io/enforce label, no policy
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata:
    ///   name: shop
    ///   labels:
    ///     pod-security.kubernetes.io/enforce: restricted
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/security/pod-security-admission/
    /// - https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run
    pub PrivilegedPodAdmitted {
        code: "CMP027",
        name: "privileged-pod-admitted",
        section: Components,
        severity: High,
        summary: "A namespace admits a privileged pod (probed with a server-side dry run)",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for PrivilegedPodAdmitted {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
