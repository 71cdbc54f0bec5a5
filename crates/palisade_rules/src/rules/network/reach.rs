//! Reachability over the network policies of the inventory: which policies apply to a
//! workload's pods, whether they isolate them, and which egress rule opens a path to a set of
//! addresses.

use std::cell::RefCell;
use std::sync::Arc;

use palisade_diagnostics::{Finding, RelatedLocation};

use crate::inventory::{Cidr, Inventory, Peer, PolicyFact, PolicyFlavor, PolicyRule};
use crate::prelude::*;

/// The pod spec of the current object when it is a workload the estate-wide rules judge
/// (not a kustomize fragment: from a patch file, or see
/// [`crate::inventory::is_partial_workload`]).
pub(crate) fn judged_pod<'c, 'd>(cx: &Checker<'c, 'd>) -> Option<&'c PodSpec<'d>> {
    cx.pod
        .filter(|pod| !cx.is_fragment() && !crate::inventory::is_partial_workload(cx.object, pod))
}

/// The folder of the current object's file, for [`crate::inventory::Inventory::policies_in`].
pub(crate) fn current_dir(cx: &Checker<'_, '_>) -> String {
    crate::inventory::dir_of(cx.file.path).to_owned()
}

pub(crate) use crate::inventory::subject;

/// The namespace as the messages name it.
pub(crate) fn ns_name(namespace: Option<&str>) -> &str {
    namespace.unwrap_or("(the namespace it is applied to)")
}

/// A related location with its message.
pub(crate) fn cite(loc: &RelatedLocation, message: impl Into<String>) -> RelatedLocation {
    let mut loc = loc.clone();
    loc.message = message.into();
    loc
}

/// What an egress rule opens towards a set of addresses.
pub(crate) struct Opening<'a> {
    pub policy: &'a PolicyFact,
    /// What the rule allows, for the message (`every destination`, `0.0.0.0/0`).
    pub what: String,
    /// The `ipBlock.cidr`, or the rule when it lists no peers.
    pub loc: &'a RelatedLocation,
}

/// The first egress rule of the policies isolating pods with `labels` for egress that lets
/// them reach an address `reaches` accepts (given an ipBlock; `None` as the argument means
/// every address). `None` when the pods are not isolated for egress (nothing restricts
/// them: other rules report that), or when a Cilium or Calico policy isolates them (their
/// rules are not evaluated here, so no claim is made).
pub(crate) fn open_egress<'a>(
    inventory: &'a Inventory,
    namespace: Option<&'a str>,
    dir: &'a str,
    labels: &'a [(String, String)],
    port: Option<i64>,
    reaches: impl Fn(Option<&crate::inventory::IpBlock>) -> bool,
) -> Option<Opening<'a>> {
    let isolating: Vec<&PolicyFact> = inventory
        .policies_for(namespace, dir, labels)
        .filter(|p| p.isolates_egress)
        .collect();
    if isolating.is_empty()
        || isolating
            .iter()
            .any(|p| p.flavor != PolicyFlavor::Kubernetes)
    {
        return None;
    }
    for policy in isolating {
        for rule in &policy.egress {
            if port.is_some_and(|p| !rule.admits_tcp_port(p)) {
                continue;
            }
            if let Some(found) = opening_of(policy, rule, &reaches) {
                return Some(found);
            }
        }
    }
    None
}

fn opening_of<'a>(
    policy: &'a PolicyFact,
    rule: &'a PolicyRule,
    reaches: &impl Fn(Option<&crate::inventory::IpBlock>) -> bool,
) -> Option<Opening<'a>> {
    match &rule.peers {
        None => reaches(None).then(|| Opening {
            policy,
            what: "every destination (its rule lists no `to` peers)".to_owned(),
            loc: &rule.loc,
        }),
        Some(peers) => peers.iter().find_map(|peer| match peer {
            Peer::IpBlock(b) if reaches(Some(b)) => Some(Opening {
                policy,
                what: if b.except.is_empty() {
                    format!("`{}`", b.cidr_text)
                } else {
                    format!("`{}` (its `except` list leaves it open)", b.cidr_text)
                },
                loc: &b.loc,
            }),
            _ => None,
        }),
    }
}

/// Parses CIDRs from settings, skipping those that do not parse (the CLI validates them).
/// The list is read once per thread and shared by the workloads' postponed checks.
pub(crate) fn parse_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> Targets {
    type Parsed = Vec<(Vec<String>, Targets)>;
    thread_local! {
        static PARSED: RefCell<Parsed> = const { RefCell::new(Vec::new()) };
    }
    let texts: Vec<&str> = texts.into_iter().collect();
    PARSED.with_borrow_mut(|parsed| {
        if let Some((_, t)) = parsed.iter().find(|(k, _)| k.iter().eq(texts.iter())) {
            return t.clone();
        }
        let targets: Targets = texts
            .iter()
            .filter_map(|t| Cidr::parse(t).map(|c| ((*t).to_owned(), c)))
            .collect();
        // Settings rarely change within a process; keep the cache small when they do.
        if parsed.len() >= 8 {
            parsed.remove(0);
        }
        parsed.push((
            texts.iter().map(|t| (*t).to_owned()).collect(),
            targets.clone(),
        ));
        targets
    })
}

/// Networks with the text they were written as.
pub(crate) type Targets = Arc<[(String, Cidr)]>;

/// A workload's identity as messages name it: "Deployment `shop/web`".
pub(crate) fn describe_workload(object: &Object<'_>) -> String {
    let name = object.name().unwrap_or("(unnamed)");
    match object.namespace() {
        Some(ns) => format!("{} `{ns}/{name}`", object.kind),
        None => format!("{} `{name}`", object.kind),
    }
}

/// Starts a finding on the workload's `metadata.name` (or the object when it has none).
pub(crate) fn workload_finding(
    cx: &mut Checker<'_, '_>,
    message: String,
    remediation: String,
) -> Finding {
    let object = cx.object;
    let (node, path) = match object.get(&["metadata", "name"]) {
        Some(n) => (n, object.path(&["metadata", "name"])),
        None => (object.node, object.path(&[])),
    };
    cx.report(node, path)
        .message(message)
        .remediation(remediation)
        .build()
}

/// Defers an egress reachability finding for the current workload: `targets` are the
/// networks (with their text) the workload must not reach, `what` names them in messages.
pub(crate) fn defer_egress_check(
    cx: &mut Checker<'_, '_>,
    targets: Targets,
    what: &'static str,
    remediation: &'static str,
    public: bool,
    port: Option<i64>,
) {
    if judged_pod(cx).is_none() || (targets.is_empty() && !public) {
        return;
    }
    let me = subject(cx);
    let candidate = workload_finding(cx, String::new(), remediation.to_owned());
    cx.defer(vec![candidate], move |estate, mut candidates| {
        let inv = &estate.inventory;
        let (ns, dir, labels, who) = (me.namespace(), me.dir(), &me.labels, me.who());
        let mut hit: Option<(String, Opening<'_>)> = None;
        if public {
            if let Some(o) = open_egress(inv, ns, dir, labels, None, |b| {
                b.is_none_or(|b| b.reaches_public())
            }) {
                hit = Some((String::new(), o));
            }
        } else {
            for (text, target) in targets.iter() {
                if let Some(o) = open_egress(inv, ns, dir, labels, port, |b| {
                    b.is_none_or(|b| b.reaches(*target))
                }) {
                    hit = Some((format!(" `{text}`"), o));
                    break;
                }
            }
        }
        let Some((target, o)) = hit else {
            return Vec::new();
        };
        let Some(mut f) = candidates.pop() else {
            return Vec::new();
        };
        f.message = format!(
            "pods of {who} can reach {what}{target}: {} allows egress to {}",
            o.policy.title(),
            o.what
        );
        f.related.push(cite(
            o.loc,
            format!("{} opens egress to {what}{target} here", o.policy.title()),
        ));
        vec![f]
    });
}
