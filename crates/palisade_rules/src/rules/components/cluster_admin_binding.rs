use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// TODO
    ///
    /// ## Why is this bad?
    /// TODO
    ///
    /// ## Example
    /// ```yaml
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// ```
    ///
    /// ## References
    /// - TODO
    pub ClusterAdminBinding {
        code: "CMP003",
        name: "cluster-admin-binding",
        section: Components,
        severity: Medium,
        summary: "TODO",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ClusterAdminBinding {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(_pod) = cx.pod else { return };
    }
}
