use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// With the `required-image` option set to `name:tag` (kubeaudit's `image` setting), flags
    /// containers that run that image with another tag, and notes (at `info`) those that run
    /// exactly the required one. Containers running other images are not concerned. Without
    /// the option the rule reports nothing.
    ///
    /// Names are compared as registries resolve them: `nginx`, `library/nginx` and
    /// `docker.io/library/nginx` are the same image, and `registry:5000/app` is the image
    /// `app` on the registry `registry:5000`. The requirement may also be given as
    /// `name@sha256:…` or `name:tag@sha256:…`; a container pinned only by digest cannot be
    /// matched against a tag and is not reported. A container whose image has no tag at all
    /// is left to `image-tag-missing`.
    ///
    /// ## Why is this bad?
    /// When a platform team mandates one version of an image (a patched base, an approved
    /// sidecar), a workload running any other version escapes the fix the mandate was
    /// for.
    ///
    /// ## Example
    /// With `required-image: registry.example.com/istio/proxyv2:1.24.2`:
    /// ```yaml
    /// containers:
    ///   - name: istio-proxy
    ///     image: registry.example.com/istio/proxyv2:1.19.0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: istio-proxy
    ///     image: registry.example.com/istio/proxyv2:1.24.2
    /// ```
    ///
    /// ## References
    /// - kubeaudit `image` (`ImageTagIncorrect`, and `ImageCorrect` at info), option
    ///   `image`; no override label
    pub ImageTagMismatch {
        code: "IMG003",
        name: "image-tag-mismatch",
        section: Images,
        severity: High,
        summary: "Container runs the required image with a different tag",
        kubeaudit: Some("image"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ImageTagMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let Some(required) = cx.settings.required_image.as_deref() else {
            return;
        };
        let want = ImageRef::parse(required);
        if want.repository.is_empty() || (want.tag.is_none() && want.digest.is_none()) {
            return;
        }
        for c in &pod.containers {
            let Some((node, image)) = pod.image(c) else {
                continue;
            };
            let have = ImageRef::parse(image);
            if !same_name(&want, &have) || (have.tag.is_none() && have.digest.is_none()) {
                continue;
            }
            let tag = match (want.tag, have.tag) {
                (Some(a), Some(b)) => Some(a == b),
                (Some(_), None) => None,
                (None, _) => Some(true),
            };
            let digest = match (want.digest, have.digest) {
                (Some(a), Some(b)) => Some(a == b),
                (Some(_), None) => Some(false),
                (None, _) => Some(true),
            };
            let path = c.path.key("image");
            match (tag, digest) {
                (Some(false), _) | (_, Some(false)) => {
                    cx.report(node, path)
                        .container(c)
                        .message(format!(
                            "{} runs `{image}`, but the required version is `{required}`",
                            c.describe()
                        ))
                        .remediation(format!("set `image: {required}`"))
                        .kubeaudit("ImageTagIncorrect");
                }
                (Some(true), Some(true)) => {
                    cx.report(node, path)
                        .container(c)
                        .severity(Severity::Info)
                        .message(format!(
                            "{} runs the required image `{required}`",
                            c.describe()
                        ))
                        .remediation("nothing to change: the image matches the requirement")
                        .kubeaudit("ImageCorrect");
                }
                _ => {}
            }
        }
    }
}

/// Whether two references name the same repository on the same registry, with Docker Hub's
/// implicit `docker.io` host and `library/` namespace resolved.
fn same_name(a: &ImageRef<'_>, b: &ImageRef<'_>) -> bool {
    let hub = |r: Option<&str>| {
        matches!(
            r,
            None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io")
        )
    };
    match (hub(a.registry), hub(b.registry)) {
        (true, true) => {
            fn official(r: &str) -> &str {
                r.strip_prefix("library/").unwrap_or(r)
            }
            official(a.repository) == official(b.repository)
        }
        (false, false) => a.registry == b.registry && a.repository == b.repository,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_names_resolve() {
        let p = ImageRef::parse;
        assert!(same_name(&p("nginx:1"), &p("docker.io/library/nginx:2")));
        assert!(same_name(&p("library/nginx"), &p("index.docker.io/nginx")));
        assert!(!same_name(&p("nginx"), &p("quay.io/nginx")));
        assert!(same_name(
            &p("registry:5000/app:1"),
            &p("registry:5000/app:2")
        ));
        assert!(!same_name(&p("registry:5000/app"), &p("registry/app")));
        assert!(!same_name(&p("team/app"), &p("other/app")));
    }
}
