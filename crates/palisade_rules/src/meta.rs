use palisade_diagnostics::{Section, Severity};

use crate::checker::Checker;
use crate::estate::Estate;

/// Whether a rule is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleStatus {
    Stable { since: &'static str },
    Preview { since: &'static str },
}

/// Where a rule's findings come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleInput {
    /// The objects of the input: manifests for `scan`, live objects for `cluster`.
    Objects,
    /// The live cluster only: versions, API server flags and enforcement probes, found by
    /// `palisade cluster` (crate `palisade_cluster`). The rule's `check` does nothing: it is
    /// declared here so that it has a code, documentation and a place in the selection.
    Cluster,
    /// The node `palisade node` runs on (its CIS controls; not in the registry).
    Node,
}

/// Everything known about a rule without running it.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, never reused: `WKL001`.
    pub code: &'static str,
    /// Kebab-case name: `privileged-container`.
    pub name: &'static str,
    pub section: Section,
    /// Default severity; a finding may be reported lower (never higher) when the case is milder.
    pub severity: Severity,
    /// One line saying what the rule finds.
    pub summary: &'static str,
    /// The kubeaudit auditor this rule re-implements, if any.
    pub kubeaudit: Option<&'static str>,
    pub status: RuleStatus,
    /// Whether the rule runs without being selected. Rules that only exist for kubeaudit
    /// parity, or that need an option to mean anything, are off by default.
    pub default_enabled: bool,
    /// Where its findings come from.
    pub input: RuleInput,
    /// The doc comment: What it does / Why is this bad? / Example / Use instead / References.
    pub docs: &'static str,
    /// Where the rule is declared, relative to the rules crate.
    pub file: &'static str,
}

/// A rule: metadata and a check over one object, and optionally over the whole estate.
pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;

    /// Checks one object. Called for every object of the input.
    fn check(&self, cx: &mut Checker<'_, '_>);

    /// Checks what can only be judged with every object known. Called once, at the end.
    fn check_estate(&self, _estate: &Estate, _out: &mut Vec<palisade_diagnostics::Finding>) {}

    /// Whether the rule can find anything with these settings: a rule that needs a list the
    /// user did not give runs, but checks nothing (the checklist then says "not checked").
    fn is_configured(&self, _settings: &crate::Settings) -> bool {
        true
    }
}

/// Declares a rule: a unit struct, its metadata (with the doc comment as documentation) and
/// the `meta()` accessor. The `impl Rule` with `check` follows in the same file.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:expr])*
        pub $name:ident {
            code: $code:literal,
            name: $kebab:literal,
            section: $section:ident,
            severity: $severity:ident,
            summary: $summary:literal,
            kubeaudit: $kubeaudit:expr,
            status: $status:ident { since: $since:literal },
            default_enabled: $enabled:literal
            $(, input: $input:ident)? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Default, Clone, Copy)]
        pub struct $name;

        impl $name {
            pub const META: $crate::meta::RuleMeta = $crate::meta::RuleMeta {
                code: $code,
                name: $kebab,
                section: ::palisade_diagnostics::Section::$section,
                severity: ::palisade_diagnostics::Severity::$severity,
                summary: $summary,
                kubeaudit: $kubeaudit,
                status: $crate::meta::RuleStatus::$status { since: $since },
                default_enabled: $enabled,
                input: rule_input!($($input)?),
                docs: concat!($($doc, "\n"),*),
                file: file!(),
            };
        }
    };
}

/// The `input:` of [`declare_rule!`]: `Objects` unless the rule says `Cluster`.
macro_rules! rule_input {
    () => {
        $crate::meta::RuleInput::Objects
    };
    ($input:ident) => {
        $crate::meta::RuleInput::$input
    };
}
