use super::security_context::{
    BASELINE_CAPABILITIES, DANGEROUS_CAPABILITIES, capability_name, is_windows_pod,
};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags every distinct capability a container adds in `securityContext.capabilities.add`
    /// that is not on the allow list (setting `allowed_capabilities`, kubeaudit's
    /// `allowAddList`). Names are compared as the container runtime reads them: case does not
    /// matter and a `CAP_` prefix is ignored, so `cap_sys_admin` is `SYS_ADMIN` and `all` is
    /// `ALL`. Capabilities that open a path to the node (`ALL`, `SYS_ADMIN`, `NET_ADMIN`,
    /// `SYS_PTRACE`, `SYS_MODULE`, `SYS_RAWIO`, `DAC_READ_SEARCH`, `BPF`, `PERFMON`,
    /// `SYS_BOOT`, `NET_RAW`, `MAC_ADMIN`, `MAC_OVERRIDE`, `SYSLOG`) are high severity, the
    /// others medium.
    ///
    /// ## Why is this bad?
    /// Each capability is a slice of root. `SYS_ADMIN` alone allows mounting filesystems and
    /// most known container escapes; `NET_ADMIN` and `NET_RAW` allow rewriting and spoofing
    /// the pod's traffic; `SYS_PTRACE` reads the memory of other processes; `SYS_MODULE`
    /// loads kernel code. The Pod Security Standards baseline level allows adding only a
    /// short list of mostly harmless capabilities, and the restricted level only
    /// `NET_BIND_SERVICE`.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       capabilities:
    ///         drop: [ALL]
    ///         add: [SYS_ADMIN]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       capabilities:
    ///         drop: [ALL]
    ///         add: [NET_BIND_SERVICE]   # the only capability the restricted level allows
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline and restricted: Capabilities
    /// - CIS Kubernetes Benchmark 5.2.9
    /// - kubeaudit `capabilities` (`CapabilityAdded`), override
    ///   `allow-capability-<capability lowercased, _ replaced by ->`, e.g.
    ///   `container.kubeaudit.io/app.allow-capability-sys-admin`
    pub CapabilityAdded {
        code: "WKL008",
        name: "capability-added",
        section: Workloads,
        severity: High,
        summary: "Container adds a Linux capability",
        kubeaudit: Some("capabilities"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for CapabilityAdded {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        let linux = !is_windows_pod(pod);
        for c in &pod.containers {
            let Some(add) = pod.container_security(c, &["capabilities", "add"]) else {
                continue;
            };
            let items = doc.items(add.node);
            let mut seen: Vec<String> = Vec::new();
            for (index, &item) in items.iter().enumerate() {
                let Some(raw) = doc.str(item) else { continue };
                let name = capability_name(raw);
                if name.is_empty() || seen.contains(&name) {
                    continue;
                }
                seen.push(name.clone());
                let allowed = cx
                    .settings
                    .allowed_capabilities
                    .iter()
                    .any(|a| capability_name(a) == name);
                if allowed {
                    continue;
                }
                let allow = override_for(cx, c, raw, &name);
                let dangerous = DANGEROUS_CAPABILITIES.contains(&name.as_str());
                let fix = Fix::unsafe_(
                    format!("remove `{raw}` from `securityContext.capabilities.add`"),
                    "the container loses a capability it may use",
                    vec![Op::remove(add.path.index(index).as_str())],
                );
                let mut report = cx
                    .report(item, add.path.index(index))
                    .fix(fix)
                    .container(c)
                    .message(format!(
                        "{} adds capability `{name}`{}",
                        c.describe(),
                        consequence(&name)
                    ))
                    .remediation(format!(
                        "remove {} from `securityContext.capabilities.add`; if the workload \
                         needs it, allow it in the `allowed_capabilities` setting or label the \
                         pod with `container.kubeaudit.io/{}.{}` and a reason",
                        spellings(doc, &items[index..], &name),
                        c.name,
                        allow.id
                    ))
                    .kubeaudit("CapabilityAdded");
                // NET_BIND_SERVICE alone, with everything else dropped, is what the restricted
                // level itself recommends: reported (kubeaudit does) but only as information.
                let drops_all = pod
                    .container_security(c, &["capabilities", "drop"])
                    .is_some_and(|d| doc.items(d.node).iter().any(|&i| doc.str(i) == Some("ALL")));
                if raw.trim() == "NET_BIND_SERVICE" && drops_all {
                    report = report.severity(Severity::Info);
                } else if !dangerous {
                    report = report.severity(Severity::Medium);
                }
                // Pod Security admission compares the entry as written: `CAP_CHOWN` is not in
                // the baseline list, and only the exact `NET_BIND_SERVICE` passes restricted.
                let written = raw.trim();
                if !BASELINE_CAPABILITIES.contains(&written) {
                    report = report.pss(PssLevel::Baseline, "Capabilities");
                } else if written != "NET_BIND_SERVICE" && linux {
                    report = report.pss(PssLevel::Restricted, "Capabilities");
                }
                report.kubeaudit_override(allow);
            }
        }
    }
}

/// The override for an added capability: kubeaudit derives its id from the entry as written
/// (`CAP_SYS_TIME` → `allow-capability-cap-sys-time`); palisade also accepts the id of the
/// normalised name (`allow-capability-sys-time`), and names that one in remediations.
fn override_for(
    cx: &Checker<'_, '_>,
    c: &Container<'_>,
    raw: &str,
    name: &str,
) -> KubeauditOverride {
    let id = |cap: &str| format!("allow-capability-{}", cap.to_lowercase().replace('_', "-"));
    let normalised = KubeauditOverride::container(id(name), c);
    let as_written = KubeauditOverride::container(id(raw.trim()), c);
    if as_written != normalised && cx.find_override(&as_written).is_some() {
        as_written
    } else {
        normalised
    }
}

/// The entries to remove for one capability: every spelling of it in `add` (`CAP_NET_ADMIN`,
/// `net_admin`), in order, as `` `A` `` or `` `A`, `B` ``.
fn spellings(doc: &palisade_yaml::Document<'_>, items: &[NodeId], name: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for raw in items.iter().filter_map(|&i| doc.str(i)) {
        let quoted = format!("`{raw}`");
        if capability_name(raw) == name && !out.contains(&quoted) {
            out.push(quoted);
        }
    }
    out.join(", ")
}

/// What holding the capability allows, for the message.
fn consequence(name: &str) -> &'static str {
    match name {
        "ALL" => ": it holds every Linux capability, close to running privileged",
        "SYS_ADMIN" => ": it can mount filesystems and use most known container escapes",
        "NET_ADMIN" => ": it can reconfigure interfaces, routes and firewall rules of its network",
        "NET_RAW" => ": it can craft raw packets and spoof traffic on the node's network",
        "SYS_PTRACE" => ": it can trace and read the memory of other processes",
        "SYS_MODULE" => ": it can load kernel modules into the node's kernel",
        "SYS_RAWIO" => ": it can access raw devices and I/O ports",
        "DAC_READ_SEARCH" => ": it can read any file it can reach, bypassing permissions",
        "BPF" | "PERFMON" => ": it can load eBPF programs or read kernel performance data",
        "SYS_BOOT" => ": it can reboot the node's kernel",
        "MAC_ADMIN" | "MAC_OVERRIDE" => ": it can change or bypass mandatory access control",
        "SYSLOG" => ": it can read and clear the kernel log, which leaks kernel addresses",
        _ => "",
    }
}
