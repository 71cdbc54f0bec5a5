use palisade_k8s::Quantity;

/// Rule options. Every field has a default that suits most clusters.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Capabilities a container may add (kubeaudit's `allowAddList`). Upper-case names,
    /// without the `CAP_` prefix.
    pub allowed_capabilities: Vec<String>,
    /// An image that must run with an exact tag, as `name:tag` (kubeaudit's `image`).
    pub required_image: Option<String>,
    /// Largest CPU limit a container may set.
    pub max_cpu: Option<Quantity>,
    /// Largest memory limit a container may set.
    pub max_memory: Option<Quantity>,
    /// Host paths that must not be mounted (kubeaudit's `denyPathsList`).
    pub sensitive_paths: Vec<String>,
    /// The Kubernetes version the manifests will be applied to, as (major, minor).
    pub target_version: (u32, u32),
    /// The Kubernetes version the cluster runs today, when known; deprecations newer than it
    /// are reported at `info`.
    pub current_version: Option<(u32, u32)>,
    /// Fixes: the non-zero user that replaces `runAsUser: 0`; no such fix when unset.
    pub fix_run_as_user: Option<i64>,
    /// Fixes: the resource requests and limits written into containers that lack them
    /// (Kubernetes quantities, e.g. `100m`, `128Mi`); no such fix when unset.
    pub default_resources: DefaultResources,
    /// Cloud metadata addresses (CIDRs) egress must not reach, in addition to
    /// [`DEFAULT_METADATA_CIDRS`].
    pub metadata_cidrs: Vec<String>,
    /// Internal ranges (pod, service and node CIDRs, other private networks) whose reachability
    /// through `ipBlock` egress rules is reported. Empty: the check is off.
    pub internal_cidrs: Vec<String>,
    /// The label that names a workload's or namespace's tenant (pod template labels,
    /// Namespace labels, node labels and taints).
    pub tenant_label: String,
    /// Registries (and repository prefixes) images may come from, as `host` or
    /// `host/path/`: `registry.example.com`, `ghcr.io/acme/`. Empty: images from public
    /// registries are reported at `info` only.
    pub allowed_registries: Vec<String>,
    /// Approved image patterns for every namespace (`registry.example.com/base/*`,
    /// `docker.io/library/nginx:1.27*`). Empty, with no namespace list either: the check is off.
    pub approved_images: Vec<String>,
    /// Approved image patterns per namespace, in addition to `approved_images`.
    pub approved_images_by_namespace: Vec<(String, Vec<String>)>,
    /// Whether findings carry the text of their source line (shown by the text, SARIF and
    /// HTML reports). Off when no report shows it: it is a copy for every finding.
    pub source_lines: bool,
}

/// Default resource values for the requests and limits fixes.
#[derive(Clone, Debug, Default)]
pub struct DefaultResources {
    pub cpu_request: Option<String>,
    pub memory_request: Option<String>,
    pub cpu_limit: Option<String>,
    pub memory_limit: Option<String>,
}

/// Cloud metadata endpoints: AWS, GCP and Azure (IPv4), AWS (IPv6), Alibaba Cloud.
pub const DEFAULT_METADATA_CIDRS: &[&str] = &[
    "169.254.169.254/32",
    "fd00:ec2::254/128",
    "100.100.100.200/32",
];

/// kubeaudit's default deny list for host path mounts.
pub const DEFAULT_SENSITIVE_PATHS: &[&str] = &[
    "/proc",
    "/var/run/docker.sock",
    "/",
    "/etc",
    "/root",
    "/var/run/crio/crio.sock",
    "/run/containerd/containerd.sock",
    "/home/admin",
    "/var/lib/kubelet",
    "/var/lib/kubelet/pki",
    "/etc/kubernetes",
    "/etc/kubernetes/manifests",
];

/// The newest Kubernetes minor version the rules know.
pub const LATEST_KUBERNETES: (u32, u32) = (1, 37);

impl Default for Settings {
    fn default() -> Self {
        Self {
            allowed_capabilities: Vec::new(),
            required_image: None,
            max_cpu: None,
            max_memory: None,
            sensitive_paths: DEFAULT_SENSITIVE_PATHS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            target_version: LATEST_KUBERNETES,
            current_version: None,
            fix_run_as_user: None,
            default_resources: DefaultResources::default(),
            metadata_cidrs: Vec::new(),
            internal_cidrs: Vec::new(),
            tenant_label: "tenant".to_owned(),
            allowed_registries: Vec::new(),
            approved_images: Vec::new(),
            approved_images_by_namespace: Vec::new(),
            source_lines: true,
        }
    }
}

/// Parses `M.m` (one or two digits each, optionally `v`-prefixed).
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let text = text.trim().trim_start_matches('v');
    let (major, minor) = text.split_once('.')?;
    let ok = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !ok(major) || !ok(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}
