use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers whose `image` has neither a tag nor a digest (`nginx`,
    /// `registry.example.com:5000/team/app`).
    ///
    /// ## Why is this bad?
    /// An image without a tag means `:latest`, whatever that points to when a node pulls it.
    /// Two replicas of the same Deployment can run different code, a rollback does not roll
    /// anything back, and a compromised or careless push to the registry reaches production
    /// on the next pod restart without any change to the manifest.
    ///
    /// The reference is split the way container runtimes read it: a `:` before the last `/`
    /// belongs to the registry host, so `registry:5000/app` has no tag. kubeaudit splits the
    /// string on the first `:` and counts `5000/app` as its tag.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com:5000/team/app
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com:5000/team/app:1.4.2@sha256:4f1c…
    /// ```
    ///
    /// ## References
    /// - kubeaudit `image` (`ImageTagMissing`); no override label
    /// - https://kubernetes.io/docs/concepts/containers/images/#image-names
    pub ImageTagMissing {
        code: "IMG001",
        name: "image-tag-missing",
        section: Images,
        severity: Medium,
        summary: "Container image has no tag and no digest",
        kubeaudit: Some("image"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ImageTagMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        for c in &pod.containers {
            // A missing, empty or non-string image is a validation error, not a tag problem.
            let Some((node, image)) = pod.image(c) else {
                continue;
            };
            let r = ImageRef::parse(image);
            if r.tag.is_some() || r.digest.is_some() {
                continue;
            }
            cx.report(node, c.path.key("image"))
                .container(c)
                .message(format!(
                    "{} uses image `{image}` without a tag or digest: it runs whatever `latest` \
                     points to when the node pulls it",
                    c.describe()
                ))
                .remediation(format!(
                    "pin the image to a released version, ideally with its digest: \
                     `{image}:<version>@sha256:<digest>`"
                ))
                .kubeaudit("ImageTagMissing");
        }
    }
}
