use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a kubeaudit override label (`kubeaudit.io/allow-privileged`,
    /// `container.kubeaudit.io/<container>.allow-run-as-root`, or the older
    /// `audit.kubernetes.io/…` forms) on a workload whose check passes without it.
    ///
    /// ## Why is this bad?
    /// An override is an exception to a security control. One that allows nothing is stale:
    /// it hides the next regression of the same setting, because the exception is already in
    /// place when someone turns the setting back on.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   labels:
    ///     kubeaudit.io/allow-privileged: "needs raw sockets"
    /// spec:
    ///   containers:
    ///     - name: app
    ///       securityContext:
    ///         privileged: false
    /// ```
    ///
    /// ## Use instead
    /// Remove the label.
    ///
    /// ## References
    /// - kubeaudit `RedundantAuditorOverride`
    pub RedundantOverride {
        code: "MSC001",
        name: "redundant-override",
        section: Misc,
        severity: Low,
        summary: "A kubeaudit override label allows something the workload does not do",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for RedundantOverride {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Reported by the checks whose override it is (see `Checker::override_checked`).
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
