use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags values whose YAML type the API server rejects, in the places that decide a
    /// workload's security:
    /// - booleans: `privileged`, `allowPrivilegeEscalation`, `readOnlyRootFilesystem`,
    ///   `runAsNonRoot`, `windowsOptions.hostProcess` (container and pod `securityContext`),
    ///   and the pod's `hostNetwork`, `hostPID`, `hostIPC`, `hostUsers`,
    ///   `automountServiceAccountToken`, `shareProcessNamespace`;
    /// - integers: `runAsUser`, `runAsGroup` (container and pod), `fsGroup` (pod), and
    ///   `containerPort`, `hostPort` of container ports;
    /// - strings: the values of `metadata.labels` and `metadata.annotations`, on every
    ///   object and on pod templates.
    ///
    /// Scalars are typed as the API server reads YAML: `"true"` in quotes is a string, `yes`
    /// and `on` are booleans, `1.7` is a number. A null value means "unset" and is accepted.
    ///
    /// ## Why is this bad?
    /// The object does not apply as written: `privileged: "true"` or `runAsUser: "1000"` make
    /// the API server reject the whole object, and so does a label such as `release: 1.7`
    /// or `enabled: true`. Checkers that decode manifests into typed structures either stop
    /// on such a document or skip it without a word (kubeaudit does), so every other problem
    /// in it goes unreported, and a human reader may believe the quoted setting is in force.
    /// The other Palisade rules treat a wrongly typed value as unset and leave the report
    /// to this rule.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   labels:
    ///     release: 1.7
    /// spec:
    ///   containers:
    ///     - name: app
    ///       securityContext:
    ///         runAsUser: "1000"
    ///         readOnlyRootFilesystem: "true"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// metadata:
    ///   labels:
    ///     release: "1.7"
    /// spec:
    ///   containers:
    ///     - name: app
    ///       securityContext:
    ///         runAsUser: 1000
    ///         readOnlyRootFilesystem: true
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#security-context-1
    /// - https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
    /// - kubeaudit issue #523 (a numeric label value made kubeaudit skip the document)
    pub InvalidFieldType {
        code: "WKL033",
        name: "invalid-field-type",
        section: Workloads,
        severity: High,
        summary: "A field has a type the API server rejects",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

/// The type a field must have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Bool,
    Int,
    Str,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::Bool => "a boolean",
            Expect::Int => "an integer",
            Expect::Str => "a string",
        }
    }
}

const POD_BOOLS: &[&str] = &[
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostUsers",
    "automountServiceAccountToken",
    "shareProcessNamespace",
];
const POD_SECURITY: &[(&[&str], Expect)] = &[
    (&["runAsNonRoot"], Expect::Bool),
    (&["windowsOptions", "hostProcess"], Expect::Bool),
    (&["runAsUser"], Expect::Int),
    (&["runAsGroup"], Expect::Int),
    (&["fsGroup"], Expect::Int),
];
const CONTAINER_SECURITY: &[(&[&str], Expect)] = &[
    (&["privileged"], Expect::Bool),
    (&["allowPrivilegeEscalation"], Expect::Bool),
    (&["readOnlyRootFilesystem"], Expect::Bool),
    (&["runAsNonRoot"], Expect::Bool),
    (&["windowsOptions", "hostProcess"], Expect::Bool),
    (&["runAsUser"], Expect::Int),
    (&["runAsGroup"], Expect::Int),
];
const PORT_INTS: &[&str] = &["containerPort", "hostPort"];

impl Rule for InvalidFieldType {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        let doc = cx.doc();
        let metadata = object.metadata();
        check_string_maps(cx, metadata, || object.path(&["metadata"]), "");
        let Some(pod) = cx.pod else { return };
        if pod.metadata.is_some() && pod.metadata != metadata {
            check_string_maps(
                cx,
                pod.metadata,
                || pod.metadata_path.clone(),
                "pod template ",
            );
        }
        let Some(spec) = pod.node else { return };
        for &field in POD_BOOLS {
            if let Some(node) = doc.get(spec, field) {
                check_value(cx, node, Expect::Bool, || {
                    Site::pod(pod.path.key(field), field)
                });
            }
        }
        if let Some(sc) = doc.get(spec, "securityContext") {
            for &(keys, expect) in POD_SECURITY {
                if let Some(node) = doc.path(sc, keys) {
                    check_value(cx, node, expect, || {
                        let path = pod.path.key("securityContext").keys(keys);
                        Site::pod(path, &format!("securityContext.{}", keys.join(".")))
                    });
                }
            }
        }
        for c in &pod.containers {
            if let Some(sc) = doc.get(c.node, "securityContext") {
                for &(keys, expect) in CONTAINER_SECURITY {
                    if let Some(node) = doc.path(sc, keys) {
                        check_value(cx, node, expect, || {
                            let path = c.path.key("securityContext").keys(keys);
                            let field = format!("securityContext.{}", keys.join("."));
                            Site::container(c, path, &field)
                        });
                    }
                }
            }
            let Some(ports) = doc.get(c.node, "ports") else {
                continue;
            };
            for (i, &port) in doc.items(ports).iter().enumerate() {
                for &field in PORT_INTS {
                    if let Some(node) = doc.get(port, field) {
                        check_value(cx, node, Expect::Int, || {
                            let path = c.path.key("ports").index(i).key(field);
                            Site::container(c, path, &format!("ports[{i}].{field}"))
                        });
                    }
                }
            }
        }
    }
}

/// Where a value sits, for the message.
struct Site<'a, 'd> {
    path: FieldPath,
    /// `container `app` sets `securityContext.privileged``, `label `release``.
    subject: String,
    /// The field name as the remediation writes it (`privileged`, `release`).
    key: String,
    container: Option<&'a Container<'d>>,
}

impl<'a, 'd> Site<'a, 'd> {
    fn pod(path: FieldPath, field: &str) -> Self {
        Self {
            path,
            subject: format!("the pod spec sets `{field}`"),
            key: last_key(field),
            container: None,
        }
    }

    fn container(c: &'a Container<'d>, path: FieldPath, field: &str) -> Self {
        Self {
            path,
            subject: format!("{} sets `{field}`", c.describe()),
            key: last_key(field),
            container: Some(c),
        }
    }
}

fn last_key(field: &str) -> String {
    field.rsplit('.').next().unwrap_or(field).to_owned()
}

/// Checks the values of `labels` and `annotations` under a metadata node.
fn check_string_maps(
    cx: &mut Checker<'_, '_>,
    metadata: Option<NodeId>,
    metadata_path: impl Fn() -> FieldPath,
    owner: &str,
) {
    let Some(metadata) = metadata else { return };
    let doc = cx.doc();
    for (field, what) in [("labels", "label"), ("annotations", "annotation")] {
        let Some(map) = doc.get(metadata, field) else {
            continue;
        };
        for &(k, v) in doc.entries(map) {
            if matches!(doc.resolved(v), Some(Resolved::Str | Resolved::Null)) {
                continue;
            }
            check_value(cx, v, Expect::Str, || {
                let key = doc.text_of(k).unwrap_or_else(|| doc.source(k)).to_owned();
                Site {
                    path: metadata_path().key(field).key(&key),
                    subject: format!("{owner}{what} `{key}` has"),
                    key,
                    container: None,
                }
            });
        }
    }
}

/// Reports `node` when its type is not `expect`; `site` describes it, built only then.
fn check_value<'a, 'd: 'a>(
    cx: &mut Checker<'_, '_>,
    node: NodeId,
    expect: Expect,
    site: impl FnOnce() -> Site<'a, 'd>,
) {
    let doc = cx.doc();
    let found = match doc.resolved(node) {
        None if doc.is_mapping(node) => "a mapping",
        None => "a list",
        Some(Resolved::Null) => return,
        Some(Resolved::Bool(_)) if expect == Expect::Bool => return,
        Some(Resolved::Int(_)) if expect == Expect::Int => return,
        // An integral number converts to the integer the field wants (`1e3`, `1000.0`).
        Some(Resolved::Float(f)) if expect == Expect::Int && f.is_finite() && f.fract() == 0.0 => {
            return;
        }
        Some(Resolved::Str) if expect == Expect::Str => return,
        Some(Resolved::Bool(_)) => "a boolean",
        Some(Resolved::Int(_)) => "an integer",
        Some(Resolved::Float(_)) => "a number",
        Some(Resolved::Str) => "a string",
    };
    let site = site();
    let source = doc.source(node);
    let shown = if doc.scalar(node).is_some() && source.chars().count() <= 40 {
        format!("{found} (`{source}`)")
    } else {
        found.to_owned()
    };
    let message = if expect == Expect::Str {
        format!(
            "{} {shown} as its value: label and annotation values are strings, so the API \
             server rejects the object",
            site.subject
        )
    } else {
        format!(
            "{} to {shown}, but the field is {}: the API server rejects the object",
            site.subject,
            expect.name()
        )
    };
    let key = &site.key;
    let text = doc.text_of(node).unwrap_or("");
    let remediation = match expect {
        Expect::Str => match doc.scalar(node) {
            Some(_) => format!("quote the value: `{key}: \"{text}\"`"),
            None => format!("write `{key}` as a single string value"),
        },
        Expect::Bool => match palisade_yaml::resolve_plain(text) {
            Resolved::Bool(b) if doc.scalar(node).is_some() => {
                format!("write the boolean without quotes: `{key}: {b}`")
            }
            _ => format!("set `{key}` to `true` or `false`"),
        },
        Expect::Int => match text.trim().parse::<i64>() {
            Ok(i) if doc.scalar(node).is_some() => {
                format!("write the number without quotes: `{key}: {i}`")
            }
            _ => format!("set `{key}` to an integer"),
        },
    };
    let report = cx
        .report(node, site.path)
        .message(message)
        .remediation(remediation);
    if let Some(c) = site.container {
        report.container(c);
    }
}
