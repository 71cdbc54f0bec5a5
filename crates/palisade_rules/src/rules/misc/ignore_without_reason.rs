use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a Palisade suppression, the `palisade.dev/ignore` annotation or a
    /// `# palisade: ignore[CODE]` comment, that gives no reason. Such a suppression is not
    /// applied.
    ///
    /// ## Why is this bad?
    /// An exception to a security control must say why it is acceptable, so that a reviewer
    /// can judge it and someone can revisit it when the reason no longer holds.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     palisade.dev/ignore: WKL001
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     palisade.dev/ignore: WKL001
    ///     palisade.dev/ignore-reason: "CNI agent: configures host networking"
    /// ```
    /// or `privileged: true  # palisade: ignore[WKL001] CNI agent configures host networking`.
    ///
    /// ## References
    /// - `palisade rules` and the README's section on suppressions
    pub IgnoreWithoutReason {
        code: "MSC002",
        name: "ignore-without-reason",
        section: Misc,
        severity: Medium,
        summary: "A Palisade suppression gives no reason, so it is not applied",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for IgnoreWithoutReason {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Reported by the engine when it reads suppressions.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
