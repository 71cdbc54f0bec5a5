use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// With `--allowed-registries` (registries or repository prefixes such as
    /// `registry.example.com` or `ghcr.io/acme/`), flags every container image that does not
    /// come from one of them. Docker Hub shorthand (`nginx`, `bitnami/redis`) is read as
    /// `docker.io/library/nginx` and `docker.io/bitnami/redis`, as container runtimes do.
    ///
    /// Without an allowlist, images from public registries (Docker Hub, its shorthand
    /// included, Quay, GitHub, Google, Kubernetes, AWS Public ECR, Microsoft, GitLab) are
    /// reported at `info`, so the inventory of external sources is visible.
    ///
    /// ## Why is this bad?
    /// A public registry serves whatever its publisher (or whoever compromised the
    /// publisher's account) pushed last, is subject to rate limits and outages, and is
    /// outside your scanning and signing pipeline. Mirroring approved images into a registry
    /// you control makes every running image one you have vetted.
    ///
    /// ## Example
    /// ```yaml
    /// # palisade scan --allowed-registries registry.example.com
    /// containers:
    ///   - name: cache
    ///     image: redis:7.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: cache
    ///     image: registry.example.com/mirror/redis:7.2
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/security/security-checklist/#images
    /// - CIS Kubernetes Benchmark 5.5.1 (image provenance)
    pub ImageRegistryNotAllowed {
        code: "IMG005",
        name: "image-registry-not-allowed",
        section: Images,
        severity: High,
        summary: "Image comes from a registry outside the allowlist",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const PUBLIC: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "quay.io",
    "ghcr.io",
    "gcr.io",
    "registry.k8s.io",
    "k8s.gcr.io",
    "public.ecr.aws",
    "mcr.microsoft.com",
    "registry.gitlab.com",
];

/// Whether `name` (`host/repo`) is under `prefix` (a host, or a path ending in `/`, or a
/// full repository).
fn allowed_by(name: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    name == prefix
        || name
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Rule for ImageRegistryNotAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let allow = &cx.settings.allowed_registries;
        for c in &pod.containers {
            let Some((node, image)) = pod.image(c) else {
                continue;
            };
            let r = ImageRef::parse(image);
            let name = r.resolved_name();
            let host = name.split('/').next().unwrap_or("");
            let builder = if allow.is_empty() {
                if !PUBLIC.contains(&host)
                    && !host.ends_with(".gcr.io")
                    && !host.ends_with(".pkg.dev")
                {
                    continue;
                }
                cx.report(node, c.path.key("image"))
                    .severity(Severity::Info)
                    .message(format!(
                        "{} pulls `{image}` from the public registry `{host}`",
                        c.describe()
                    ))
                    .remediation(
                        "mirror the image into a registry you control, and set \
                         `--allowed-registries` to enforce it",
                    )
            } else {
                if allow.iter().any(|p| allowed_by(&name, p)) {
                    continue;
                }
                cx.report(node, c.path.key("image"))
                    .message(format!(
                        "{} pulls `{image}` ({name}), which is not under an allowed registry \
                         ({})",
                        c.describe(),
                        allow.join(", ")
                    ))
                    .remediation(format!(
                        "use a copy of the image from {}",
                        allow.first().map_or("", String::as_str)
                    ))
            };
            builder.container(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_prefixes() {
        assert_eq!(
            ImageRef::parse("nginx:1").resolved_name(),
            "docker.io/library/nginx"
        );
        assert_eq!(
            ImageRef::parse("bitnami/redis").resolved_name(),
            "docker.io/bitnami/redis"
        );
        assert_eq!(
            ImageRef::parse("ghcr.io/acme/api@sha256:ab").resolved_name(),
            "ghcr.io/acme/api"
        );
        assert!(allowed_by("ghcr.io/acme/api", "ghcr.io/acme/"));
        assert!(allowed_by("ghcr.io/acme/api", "ghcr.io"));
        assert!(!allowed_by("ghcr.io/acmeevil/api", "ghcr.io/acme"));
        assert!(!allowed_by(
            "registry.example.com.evil.io/x",
            "registry.example.com"
        ));
    }
}
