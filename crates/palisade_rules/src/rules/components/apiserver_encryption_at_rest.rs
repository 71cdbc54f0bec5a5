use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Reads the `kube-apiserver` static pods in `kube-system` and reports a missing
    /// `--encryption-provider-config`.
    ///
    /// ## Why is this bad?
    /// Without an encryption configuration, Secrets are stored in etcd in plain text: anyone who
    /// reads an etcd backup or the etcd data directory reads every Secret of the cluster.
    ///
    /// ## Example
    /// ```yaml
    /// command: [kube-apiserver, --etcd-servers=https://127.0.0.1:2379]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - --encryption-provider-config=/etc/kubernetes/enc/encryption-config.yaml
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/
    /// - CIS Kubernetes Benchmark 1.2.27
    pub ApiserverEncryptionAtRest {
        code: "CMP026",
        name: "apiserver-encryption-at-rest",
        section: Components,
        severity: Medium,
        summary: "kube-apiserver stores Secrets in etcd without encryption at rest",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for ApiserverEncryptionAtRest {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
