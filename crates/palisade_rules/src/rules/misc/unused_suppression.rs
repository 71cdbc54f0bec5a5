use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a Palisade suppression (`palisade.dev/ignore` annotation or
    /// `# palisade: ignore[CODE]` comment) that suppresses no finding.
    ///
    /// ## Why is this bad?
    /// A stale exception silently covers the next regression of the same kind. Removing it
    /// keeps the list of accepted risks true.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   privileged: false  # palisade: ignore[WKL001] legacy agent
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   privileged: false
    /// ```
    ///
    /// ## References
    /// - ruff's `unused-noqa` (RUF100), the same idea for Python
    pub UnusedSuppression {
        code: "MSC003",
        name: "unused-suppression",
        section: Misc,
        severity: Low,
        summary: "A Palisade suppression suppresses nothing",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Reported by the engine when it reads suppressions.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
