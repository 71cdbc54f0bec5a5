use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags container images referenced by a tag without a digest (`app:1.4.2` rather than
    /// `app:1.4.2@sha256:…`). Images without a tag or tagged `latest` are left to
    /// `image-tag-missing` and `image-tag-latest`.
    ///
    /// Off by default: enable it with `--extend-select IMG006` where digest pinning is the
    /// policy (typically with a bot that updates digests).
    ///
    /// ## Why is this bad?
    /// A tag is a pointer its publisher can move: the same manifest then runs different
    /// code on different nodes, or after a reschedule, and a compromised registry account
    /// can replace a released version. A digest names exactly one image.
    ///
    /// ## Example
    /// ```yaml
    /// image: registry.example.com/api:1.4.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image: registry.example.com/api:1.4.2@sha256:3b7a…
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/containers/images/#image-names
    pub ImageNotPinnedByDigest {
        code: "IMG006",
        name: "image-not-pinned-by-digest",
        section: Images,
        severity: Low,
        summary: "Image is referenced by tag without a digest",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: false,
    }
}

impl Rule for ImageNotPinnedByDigest {
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
            if r.digest.is_some() || r.is_mutable_tag() {
                continue;
            }
            cx.report(node, c.path.key("image"))
                .container(c)
                .message(format!(
                    "{} uses image `{image}` by tag only: the tag can be moved to other content",
                    c.describe()
                ))
                .remediation(format!(
                    "pin the digest as well: `{image}@sha256:<digest>` (a tool such as Renovate \
                     keeps it current)"
                ));
        }
    }
}
