use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// With approved image patterns configured (`approved-images`, for every namespace, and
    /// `approved-images-by-namespace`, added for one namespace), flags every container whose
    /// image matches none of the patterns that apply to its namespace. Without patterns the rule
    /// reports nothing.
    ///
    /// A pattern is matched against the image as the container runtime resolves it:
    /// `host/repository` (Docker Hub shorthand `nginx` is `docker.io/library/nginx`, and a
    /// pattern may use the shorthand too), plus `:tag` when the pattern names a tag and
    /// `@digest` when it names a digest. `*` matches within one path segment, `**` across
    /// segments, `?` one character: `registry.example.com/base/*` approves every image
    /// directly under `base/`, `registry.example.com/**` everything on that registry,
    /// `docker.io/library/nginx:1.27*` only nginx 1.27 builds.
    ///
    /// ## Why is this bad?
    /// Standard base images are maintained, scanned and patched by a platform team; an image
    /// built from anything else brings its own packages, users and vulnerabilities that nobody
    /// tracks. A list of approved images turns "use the standard base images" into a check.
    ///
    /// ## Example
    /// ```yaml
    /// # .palisade.yaml: options: {approved-images: ["registry.example.com/base/**"]}
    /// containers:
    ///   - name: api
    ///     image: node:22
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     image: registry.example.com/base/node:22
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/security/security-checklist/#images
    pub ImageNotApproved {
        code: "IMG007",
        name: "image-not-approved",
        section: Images,
        severity: Medium,
        summary: "Image matches none of the approved image patterns",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ImageNotApproved {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn is_configured(&self, settings: &crate::Settings) -> bool {
        !settings.approved_images.is_empty() || !settings.approved_images_by_namespace.is_empty()
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let settings = cx.settings;
        if !self.is_configured(settings) {
            return;
        }
        let namespace = cx.object.namespace();
        let local = namespace.and_then(|ns| {
            settings
                .approved_images_by_namespace
                .iter()
                .find(|(n, _)| n == ns)
                .map(|(_, p)| p.as_slice())
        });
        let patterns: Vec<&str> = settings
            .approved_images
            .iter()
            .chain(local.unwrap_or_default())
            .map(String::as_str)
            .collect();
        for c in &pod.containers {
            let Some((node, image)) = pod.image(c) else {
                continue;
            };
            let r = ImageRef::parse(image);
            if patterns.iter().any(|p| approves(p, &r)) {
                continue;
            }
            let scope = match namespace {
                Some(ns) if local.is_some() => format!("for namespace `{ns}`"),
                _ => "globally".to_owned(),
            };
            let shown: Vec<String> = patterns.iter().map(|p| format!("`{p}`")).collect();
            cx.report(node, c.path.key("image"))
                .message(format!(
                    "{} runs `{image}`, which matches none of the images approved {scope} ({})",
                    c.describe(),
                    if shown.is_empty() {
                        "none".to_owned()
                    } else {
                        shown.join(", ")
                    }
                ))
                .remediation(
                    "build the image from an approved base image and publish it under an \
                     approved name, or add its pattern to `approved-images` (or \
                     `approved-images-by-namespace`) in .palisade.yaml",
                )
                .container(c);
        }
    }
}

/// Whether the approved-image `pattern` matches the image `r`.
fn approves(pattern: &str, r: &ImageRef<'_>) -> bool {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return false;
    }
    let pattern = normalise(pattern);
    let mut subject = r.resolved_name();
    let last_slash = pattern.rfind('/').map_or(0, |i| i + 1);
    let wants_digest = pattern.contains('@');
    let wants_tag = pattern[last_slash..]
        .split('@')
        .next()
        .unwrap_or("")
        .contains(':');
    if wants_tag {
        subject.push(':');
        subject.push_str(r.tag.unwrap_or("latest"));
    }
    if wants_digest {
        let Some(d) = r.digest else { return false };
        subject.push('@');
        subject.push_str(d);
    }
    glob(pattern.as_bytes(), subject.as_bytes())
}

/// Docker Hub shorthand in a pattern (`nginx:1.*`, `bitnami/*`) written out in full, as the
/// runtime would resolve an image of that name.
fn normalise(pattern: &str) -> std::borrow::Cow<'_, str> {
    let first = pattern.split('/').next().unwrap_or("");
    let is_host = first.contains('.') || first.contains(':') || first == "localhost";
    if is_host || first.contains('*') {
        pattern.into()
    } else if pattern.contains('/') {
        format!("docker.io/{pattern}").into()
    } else {
        format!("docker.io/library/{pattern}").into()
    }
}

/// `*` matches within a path segment, `**` across segments, `?` one character.
fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => {
            if let Some(rest) = rest.strip_prefix(b"*") {
                (0..=s.len()).any(|i| glob(rest, &s[i..]))
            } else {
                let segment = s.iter().position(|&b| b == b'/').unwrap_or(s.len());
                (0..=segment).any(|i| glob(rest, &s[i..]))
            }
        }
        Some((b'?', rest)) => s.first().is_some_and(|&b| b != b'/') && glob(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(pattern: &str, image: &str) -> bool {
        approves(pattern, &ImageRef::parse(image))
    }

    #[test]
    fn patterns() {
        assert!(ok(
            "registry.example.com/base/*",
            "registry.example.com/base/node:22"
        ));
        assert!(!ok(
            "registry.example.com/base/*",
            "registry.example.com/base/x/node:22"
        ));
        assert!(ok(
            "registry.example.com/**",
            "registry.example.com/base/x/node:22"
        ));
        assert!(!ok(
            "registry.example.com/**",
            "registry.example.com.evil.io/node"
        ));
        assert!(ok("nginx", "nginx:1.27"));
        assert!(ok("docker.io/library/nginx:1.27*", "nginx:1.27.3"));
        assert!(!ok("docker.io/library/nginx:1.27*", "nginx:1.28"));
        assert!(!ok("nginx:1.27", "nginx"), "no tag is `latest`");
        assert!(ok("bitnami/*", "bitnami/redis:7"));
        assert!(ok(
            "*.dkr.ecr.*.amazonaws.com/**",
            "1234.dkr.ecr.eu-west-1.amazonaws.com/app:1"
        ));
        assert!(ok(
            "ghcr.io/acme/app@sha256:*",
            "ghcr.io/acme/app:1@sha256:ab"
        ));
        assert!(!ok("ghcr.io/acme/app@sha256:*", "ghcr.io/acme/app:1"));
        assert!(!ok("", "nginx"));
        assert!(ok(
            "registry.example.com/b?se/*",
            "registry.example.com/base/node"
        ));
    }
}
