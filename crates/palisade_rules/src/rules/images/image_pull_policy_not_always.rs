use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that run a mutable image reference (no digest, and no tag or the
    /// `latest` tag) with `imagePullPolicy: IfNotPresent` or `Never`.
    ///
    /// ## Why is this bad?
    /// With a moving tag and a pull policy other than `Always`, each node keeps whichever
    /// image it pulled first. Replicas on different nodes run different code, a fixed image
    /// pushed under the same tag never reaches nodes that cached the old one, and with
    /// `Never` a pod can start an image planted on the node. When `imagePullPolicy` is
    /// omitted the API server sets `Always` for untagged and `latest` images, so leaving it
    /// out is fine; only an explicit `IfNotPresent` or `Never` is reported.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/app:latest
    ///     imagePullPolicy: IfNotPresent
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2@sha256:4f1c…
    ///     imagePullPolicy: IfNotPresent
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/containers/images/#imagepullpolicy-defaulting
    /// - kubeaudit has no equivalent
    pub ImagePullPolicyNotAlways {
        code: "IMG004",
        name: "image-pull-policy-not-always",
        section: Images,
        severity: Low,
        summary: "Mutable image tag without `imagePullPolicy: Always`",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ImagePullPolicyNotAlways {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        for c in &pod.containers {
            let Some(policy_node) = doc.get(c.node, "imagePullPolicy") else {
                continue;
            };
            // The API server accepts exactly these spellings; anything else is rejected.
            let Some(policy @ ("IfNotPresent" | "Never")) = doc.str(policy_node) else {
                continue;
            };
            let Some((_, image)) = pod.image(c) else {
                continue;
            };
            if !ImageRef::parse(image).is_mutable_tag() {
                continue;
            }
            let route = c.path.key("imagePullPolicy");
            let fix = Fix::unsafe_(
                "set `imagePullPolicy: Always`",
                "pods fail to start while the registry is unreachable",
                vec![Op::set(route.as_str(), "Always")],
            );
            cx.report(policy_node, route)
                .fix(fix)
                .container(c)
                .message(format!(
                    "{} runs the mutable image `{image}` with `imagePullPolicy: {policy}`: each \
                     node keeps whichever image it pulled first",
                    c.describe()
                ))
                .remediation(
                    "pin the image to a version tag or digest; if it must follow a moving tag, \
                     set `imagePullPolicy: Always`",
                );
        }
    }
}
