use super::security_context::{capability_name, is_windows_pod};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that do not drop every Linux capability: `securityContext.capabilities`
    /// is missing, or its `drop` list has no `ALL` entry (compared case-insensitively, as the
    /// container runtimes do). Capabilities the container adds are judged by
    /// `capability-added` (WKL008).
    ///
    /// ## Why is this bad?
    /// Without `drop: [ALL]` a container keeps the runtime's default set: `CHOWN`,
    /// `DAC_OVERRIDE`, `FOWNER`, `SETUID`, `SETGID`, `NET_BIND_SERVICE`, `KILL`, and with
    /// some runtimes `NET_RAW`, which allows ARP and DNS spoofing on the node's network.
    /// Most applications need none of them. Dropping `ALL` and adding back the one or two the
    /// workload needs keeps the kernel attack surface small, and the Pod Security Standards
    /// restricted level requires it (Linux pods).
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       capabilities:
    ///         drop: [NET_RAW]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       capabilities:
    ///         drop: [ALL]
    ///         add: [NET_BIND_SERVICE]   # only if the workload needs it
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Capabilities
    /// - CIS Kubernetes Benchmark 5.2.8, 5.2.9
    /// - kubeaudit `capabilities` (`CapabilityOrSecurityContextMissing`,
    ///   `CapabilityShouldDropAll`); kubeaudit has no override for these. It does report a
    ///   `kubeaudit.io/allow-capability-all` label as redundant on a container without
    ///   `capabilities`, and so does palisade.
    pub CapabilitiesNotDropped {
        code: "WKL007",
        name: "capabilities-not-dropped",
        section: Workloads,
        severity: Medium,
        summary: "Container does not drop all Linux capabilities",
        kubeaudit: Some("capabilities"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const REMEDIATION: &str = "set `securityContext.capabilities.drop: [ALL]` and add back only the \
                           capabilities the container needs";

impl Rule for CapabilitiesNotDropped {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        // Windows pods may not set these fields at all (the API server rejects them there).
        if is_windows_pod(pod) {
            return;
        }
        let doc = cx.doc();
        for c in &pod.containers {
            let caps = pod
                .container_security(c, &["capabilities"])
                .filter(|f| doc.is_mapping(f.node));
            let caps_missing = caps.is_none();
            let drop_path = c.path.keys(&["securityContext", "capabilities", "drop"]);
            let op = match caps.as_ref().and_then(|caps| doc.get(caps.node, "drop")) {
                Some(list) if doc.is_sequence(list) => Op::append(drop_path.as_str(), "ALL"),
                _ => Op::set(drop_path.as_str(), serde_json::json!(["ALL"])),
            };
            let fix = Fix::unsafe_(
                "add `ALL` to `securityContext.capabilities.drop`",
                "the container loses the runtime's default capabilities (binding ports below \
                 1024, changing file ownership, …) unless it adds them back",
                vec![op],
            );
            let (node, path, missing, problem, code) = match caps {
                None => {
                    let (node, path, missing) =
                        pod.nearest(c, &["securityContext", "capabilities", "drop"]);
                    let problem = "does not set `securityContext.capabilities`, so it keeps the \
                                   container runtime's default capabilities";
                    (
                        node,
                        path,
                        missing,
                        problem,
                        "CapabilityOrSecurityContextMissing",
                    )
                }
                Some(caps) => {
                    let drop = doc.get(caps.node, "drop").filter(|&n| !doc.is_null(n));
                    let drops_all = drop.is_some_and(|list| {
                        doc.items(list)
                            .iter()
                            .any(|&i| doc.str(i).is_some_and(|s| s.eq_ignore_ascii_case("ALL")))
                    });
                    if drops_all {
                        // The runtime drops everything for `all`, but Pod Security admission
                        // (restricted) accepts only the exact `ALL`.
                        let exact = drop.is_some_and(|list| {
                            doc.items(list).iter().any(|&i| doc.str(i) == Some("ALL"))
                        });
                        if let (false, Some(list)) = (exact, drop) {
                            cx.report(list, caps.path.key("drop"))
                                .container(c)
                                .severity(Severity::Low)
                                .message(format!(
                                    "{} drops all capabilities, but not spelt `ALL`: the \
                                     restricted Pod Security level rejects the pod",
                                    c.describe()
                                ))
                                .remediation("write `drop: [ALL]` in upper case")
                                .pss(PssLevel::Restricted, "Capabilities");
                        }
                        continue;
                    }
                    let (node, path, missing) = match drop {
                        Some(list) => (list, caps.path.key("drop"), String::new()),
                        None => pod.nearest(c, &["securityContext", "capabilities", "drop"]),
                    };
                    let problem = "does not drop `ALL` capabilities, so it keeps every default \
                                   capability it does not list";
                    (node, path, missing, problem, "CapabilityShouldDropAll")
                }
            };
            let report = cx
                .report(node, path)
                .container(c)
                .missing(missing)
                .message(format!("{} {problem}", c.describe()))
                .remediation(REMEDIATION)
                .kubeaudit(code)
                .fix(fix)
                .pss(PssLevel::Restricted, "Capabilities");
            drop(report);
            // kubeaudit reads missing capabilities as `add: [ALL]` when it looks up the
            // override labels, so `allow-capability-all` is redundant on such a container
            // (unless `ALL` is on the allow list, which skips the lookup).
            if caps_missing
                && !cx
                    .settings
                    .allowed_capabilities
                    .iter()
                    .any(|a| capability_name(a) == "ALL")
            {
                cx.override_checked(&KubeauditOverride::container("allow-capability-all", c));
            }
        }
    }
}
