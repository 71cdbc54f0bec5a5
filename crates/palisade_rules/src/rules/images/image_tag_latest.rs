use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers whose image is tagged `latest` without a digest (`nginx:latest`).
    ///
    /// ## Why is this bad?
    /// `latest` is a moving tag: it names whatever was pushed last. The manifest no longer
    /// says what runs, replicas started on different days run different code, a rollback
    /// restores the same tag and therefore nothing, and a bad push reaches production on the
    /// next pod restart. An image pinned by digest (`nginx:latest@sha256:…`) is immutable and
    /// is not reported.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: nginx:latest
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: nginx:1.27.3@sha256:0a399eb1…
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/configuration/overview/#container-images
    /// - kubeaudit has no equivalent: its `image` auditor treats `latest` like any other tag
    pub ImageTagLatest {
        code: "IMG002",
        name: "image-tag-latest",
        section: Images,
        severity: Medium,
        summary: "Container image uses the mutable `latest` tag",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ImageTagLatest {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        for c in &pod.containers {
            let Some((node, image)) = pod.image(c) else {
                continue;
            };
            let r = ImageRef::parse(image);
            if r.digest.is_some() || r.tag != Some("latest") {
                continue;
            }
            cx.report(node, c.path.key("image"))
                .container(c)
                .message(format!(
                    "{} uses image `{image}`: `latest` is a moving tag, so what runs changes \
                     whenever someone pushes",
                    c.describe()
                ))
                .remediation(format!(
                    "pin a released version, ideally with its digest: \
                     `{}:<version>@sha256:<digest>`",
                    image.trim().trim_end_matches(":latest")
                ));
        }
    }
}
