/// A container image reference split the way container runtimes read it:
/// `[registry[:port]/]repository[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The registry host, when the first path component names one (has `.` or `:`, or is
    /// `localhost`); `None` means Docker Hub.
    pub registry: Option<&'a str>,
    pub repository: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(image: &'a str) -> Self {
        let image = image.trim();
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (image, None),
        };
        // A tag is a `:` after the last `/`, so `registry:5000/app` has no tag.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), path)
            }
            _ => (None, name),
        };
        Self {
            registry,
            repository,
            tag: tag.filter(|t| !t.is_empty()),
            digest,
        }
    }

    /// `host/repository` as the runtime resolves it: Docker Hub shorthand (`nginx`,
    /// `bitnami/redis`) becomes `docker.io/library/nginx` and `docker.io/bitnami/redis`.
    pub fn resolved_name(&self) -> String {
        match self.registry {
            Some(host) => format!("{host}/{}", self.repository),
            None if self.repository.contains('/') => format!("docker.io/{}", self.repository),
            None => format!("docker.io/library/{}", self.repository),
        }
    }

    /// The tag can move to other content: no digest and a missing or `latest` tag.
    pub fn is_mutable_tag(&self) -> bool {
        // `ko://…` parses with the registry `ko:`: a scheme, not a host.
        !self.registry.is_some_and(|r| r.ends_with(':'))
            && self.digest.is_none()
            && self.tag.is_none_or(|t| t == "latest")
    }
}

/// A placeholder that a build tool replaces before deployment (`ko://example.com/cmd/app`):
/// never pulled as written, so not an image reference to judge.
pub fn is_build_reference(image: &str) -> bool {
    image.contains("://")
}

#[cfg(test)]
mod tests {
    use super::ImageRef;

    #[test]
    fn splits_references() {
        let r = ImageRef::parse("registry:5000/team/app:1.2@sha256:abc");
        assert_eq!(r.registry, Some("registry:5000"));
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag, Some("1.2"));
        assert_eq!(r.digest, Some("sha256:abc"));
        let r = ImageRef::parse("registry:5000/app");
        assert_eq!(r.tag, None);
        assert!(r.is_mutable_tag());
        let r = ImageRef::parse("nginx");
        assert_eq!((r.registry, r.repository, r.tag), (None, "nginx", None));
        assert!(!ImageRef::parse("nginx@sha256:00").is_mutable_tag());
        assert_eq!(
            ImageRef::parse("nginx:1.27").resolved_name(),
            "docker.io/library/nginx"
        );
        assert_eq!(
            ImageRef::parse("bitnami/redis").resolved_name(),
            "docker.io/bitnami/redis"
        );
        assert_eq!(
            ImageRef::parse("registry:5000/team/app:1").resolved_name(),
            "registry:5000/team/app"
        );
        assert!(ImageRef::parse("nginx:latest").is_mutable_tag());
        assert!(!ImageRef::parse("ko://knative.dev/serving/cmd/activator").is_mutable_tag());
        assert!(super::is_build_reference(
            "ko://knative.dev/serving/cmd/activator"
        ));
    }
}
