use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use palisade_diagnostics::Severity;

/// Palisade checks Kubernetes manifests and clusters against a hardening checklist and says
/// precisely what is unsafe, where, why, and how to fix it.
#[derive(Parser, Debug)]
#[command(name = "palisade", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan manifests: files, folders (recursive) or `-` for stdin
    Scan(Box<ScanArgs>),
    /// Audit a live cluster through the Kubernetes API: the scan rules on the live objects, the
    /// versions and API server flags, and what admission and authorization really enforce
    Cluster(Box<ClusterArgs>),
    /// List the rules, or print one rule's documentation
    Rules(RulesArgs),
    /// Audit this node against the CIS Kubernetes Benchmark (components, files, runtime, OS)
    Node(NodeArgs),
    /// Fix findings in place with minimal edits that keep comments and formatting
    Fix(Box<FixArgs>),
    /// Effective RBAC permissions of the input: `who-can VERB RESOURCE [PATHS]…` or
    /// `SUBJECT [PATHS]…`
    Rbac(RbacArgs),
    /// Write a commented starter `.palisade.yaml`
    Init(InitArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    #[command(name = "manpage")]
    Manpage,
    /// Show the hardening checklist item by item: pass, fail (with the findings), or not
    /// checkable from manifests (and which mode checks it)
    Checklist(ChecklistArgs),
    /// Run the admission webhook: validate and harden objects sent by the API server (HTTPS)
    Serve(Box<crate::serve_cmd::ServeArgs>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChecklistFormat {
    Text,
    Json,
    Html,
}

#[derive(Args, Debug)]
pub struct ChecklistArgs {
    /// Files and folders to scan, as for `palisade scan`. Default: the current folder
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = ChecklistFormat::Text)]
    pub format: ChecklistFormat,
    /// Write to FILE instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Read this config file instead of looking for `.palisade.yaml`
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore any `.palisade.yaml`
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Where to write the config
    #[arg(default_value = ".palisade.yaml")]
    pub path: PathBuf,
    /// Replace an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell
    pub shell: clap_complete::Shell,
}

/// A report format of `palisade scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Html,
    Csv,
}

/// `--format FORMAT[=FILE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatSpec {
    pub format: ReportFormat,
    pub output: Option<PathBuf>,
}

fn parse_format_spec(s: &str) -> Result<FormatSpec, String> {
    let (name, output) = match s.split_once('=') {
        Some((name, file)) if !file.is_empty() => (name, Some(PathBuf::from(file))),
        Some(_) => return Err(format!("`{s}`: give a file after `=`")),
        None => (s, None),
    };
    let format = ReportFormat::from_str(name, true).map_err(|_| {
        format!("unknown format `{name}`; expected one of text, json, sarif, junit, html, csv (optionally `=FILE`)")
    })?;
    Ok(FormatSpec { format, output })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files and folders to scan (`.yaml`, `.yml`, `.json`; folders recursively, honouring
    /// .gitignore); `-` reads a stream from stdin. Default: the current folder
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Skip paths matching this glob (repeatable), e.g. `--exclude 'charts/**'`
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Treat every folder matching this glob, relative to the scanned folder, as a separate
    /// estate (cluster): estate-wide rules never combine objects of two estates (repeatable;
    /// `*` matches one folder name, `**` any depth), e.g. `--estate 'clusters/*'`
    #[arg(long, value_name = "GLOB")]
    pub estate: Vec<String>,

    /// Worker threads (default: one per core)
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

/// How findings are selected and reported: shared by `scan` and `cluster`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Report format: text, json, sarif, junit, html or csv. Repeat for several reports;
    /// `FORMAT=FILE` writes that report to FILE (e.g. `-f sarif=out.sarif -f text`)
    #[arg(long, short = 'f', value_parser = parse_format_spec, value_name = "FORMAT[=FILE]")]
    pub format: Vec<FormatSpec>,

    /// Write a report to FILE instead of stdout. The Nth `--output` goes to the Nth `--format`
    /// that has no `=FILE`
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Vec<PathBuf>,

    /// Only show findings at or above this severity (critical, high, medium, low, info;
    /// default: the config's `min-severity`, else info)
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub min_severity: Option<Severity>,

    /// Exit with 1 when a finding is at or above this severity (default: the config's
    /// `fail-on`, else high)
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,

    /// Read this config file instead of looking for `.palisade.yaml` from the working folder up
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Ignore any `.palisade.yaml`
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Report only findings that are not in this baseline file
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record today's findings in FILE (a baseline for `--baseline`); the scan then exits 0
    /// unless the input had errors
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// No progress bar and no warnings on stderr
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Run only these rules: codes (WKL001), code prefixes (WKL), names
    /// (privileged-container), sections (workloads), `kubeaudit:<auditor>` or ALL
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,

    /// Run these rules in addition to the default (or --select) set
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub extend_select: Vec<String>,

    /// Do not run these rules (same selectors as --select)
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Also list findings suppressed by override labels, annotations or comments
    #[arg(long)]
    pub show_suppressed: bool,

    /// Do not print source excerpts in text output
    #[arg(long)]
    pub no_source: bool,

    /// When to use colour in text output
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(flatten)]
    pub rule_options: RuleOptionArgs,
}

#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`, else the in-cluster
    /// ServiceAccount)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context (default: the current context)
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Audit only this namespace (repeatable; default: every namespace, and cluster-scoped
    /// objects)
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Vec<String>,

    /// Leave this namespace out (repeatable)
    #[arg(long, value_name = "NAMESPACE")]
    pub exclude_namespace: Vec<String>,

    /// Do not run the enforcement probes (dry-run pod creation, access reviews, anonymous
    /// request, old TLS handshake)
    #[arg(long)]
    pub no_probes: bool,

    /// Objects per list request (the API's `limit`; lists are paged with `continue`)
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub page_size: u32,

    /// API requests in flight at once
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,

    /// Print each list and probe, with its request count and time, on stderr
    #[arg(long, short = 'v')]
    pub verbose: bool,

    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// A rule code or name: print its documentation
    pub rule: Option<String>,

    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Audit the node filesystem under DIR (a folder holding proc/ and etc/: a mounted host,
    /// a disk image) instead of `/`
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Output format: text (kube-bench-style table per section), json, sarif, junit (a test
    /// suite per judged control), html, csv, or checklist (the checklist items node controls
    /// decide)
    #[arg(long, short = 'f', value_enum, default_value_t = NodeFormat::Text)]
    pub format: NodeFormat,

    /// Write the report to FILE instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Only report findings at or above this severity (critical, high, medium, low, info)
    #[arg(long, value_parser = parse_severity, default_value = "info", value_name = "SEVERITY")]
    pub min_severity: Severity,

    /// Exit with 1 when a finding is at or above this severity
    #[arg(long, value_parser = parse_severity, default_value = "high", value_name = "SEVERITY")]
    pub fail_on: Severity,

    /// Also print why each not-applicable control does not apply (text output)
    #[arg(long)]
    pub show_not_applicable: bool,

    /// Judge only the Kubernetes component running as process PID (repeatable), on hosts that
    /// run several control planes; container runtimes are always judged
    #[arg(long, value_name = "PID")]
    pub pid: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NodeFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Html,
    Csv,
    Checklist,
}

#[derive(Args, Debug)]
pub struct FixArgs {
    /// Files and folders to fix (as for `scan`); `-` reads a stream from stdin and writes the
    /// fixed stream to stdout. Default: the current folder
    pub paths: Vec<PathBuf>,

    /// Print a unified diff of the fixes and change nothing
    #[arg(long)]
    pub diff: bool,

    /// Change nothing; exit with 1 when fixes are pending (for CI)
    #[arg(long)]
    pub check: bool,

    /// Change nothing; print each fix as an RFC 6902 JSON Patch of its object, with the
    /// matching `kubectl patch --type=json` command (JSON, one entry per finding)
    #[arg(long, conflicts_with_all = ["diff", "check"])]
    pub json_patch: bool,

    /// Also apply unsafe fixes: hardening that may break a workload that relies on what it
    /// removes (running as root, a writable root filesystem, capabilities, …)
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// List each unsafe fix left unapplied, not only their number
    #[arg(long)]
    pub show_unsafe_fixes: bool,

    /// Fix only the findings of these rules (same selectors as `scan --select`)
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,

    /// Fix the findings of these rules in addition to the default (or --select) set
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub extend_select: Vec<String>,

    /// Do not fix the findings of these rules
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Skip paths matching this glob (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// The non-zero user id that replaces `runAsUser: 0` (no such fix without it)
    #[arg(long, value_name = "UID")]
    pub run_as_user: Option<i64>,

    /// CPU request written into containers that request none (e.g. 100m)
    #[arg(long, value_name = "QUANTITY")]
    pub default_cpu_request: Option<String>,

    /// Memory request written into containers that request none (e.g. 128Mi)
    #[arg(long, value_name = "QUANTITY")]
    pub default_memory_request: Option<String>,

    /// CPU limit written into containers that set none (e.g. 500m)
    #[arg(long, value_name = "QUANTITY")]
    pub default_cpu_limit: Option<String>,

    /// Memory limit written into containers that set none (e.g. 256Mi)
    #[arg(long, value_name = "QUANTITY")]
    pub default_memory_limit: Option<String>,

    #[command(flatten)]
    pub rule_options: RuleOptionArgs,
}

#[derive(Args, Debug)]
pub struct RbacArgs {
    /// `who-can VERB RESOURCE` (RESOURCE as `secrets`, `pods/exec` or `deployments.apps`), or
    /// a SUBJECT (`system:serviceaccount:NS:NAME`, `sa:NS/NAME`, `user:NAME`, `group:NAME`),
    /// followed by the files and folders to read (default: the current folder; `-` for stdin)
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    pub query: Vec<String>,

    /// Only bindings that grant in this namespace (and cluster-wide ones)
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Treat every folder matching this glob, relative to the folder read, as a separate
    /// estate (cluster), as `scan --estate` does: bindings are resolved within their estate
    /// and the answer is given estate by estate (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub estate: Vec<String>,

    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Rule options, shared by `scan` and `fix` (and settable in `.palisade.yaml`).
#[derive(Args, Debug, Default, Clone)]
pub struct RuleOptionArgs {
    /// Capabilities containers may add (kubeaudit's allowAddList)
    #[arg(long, value_delimiter = ',', value_name = "CAPS")]
    pub allowed_capabilities: Vec<String>,

    /// An image that must run with this exact tag, as `name:tag`
    #[arg(long, value_name = "IMAGE")]
    pub required_image: Option<String>,

    /// Largest CPU limit a container may set (a Kubernetes quantity, e.g. 2 or 500m)
    #[arg(long, value_name = "QUANTITY")]
    pub max_cpu: Option<String>,

    /// Largest memory limit a container may set (e.g. 1Gi)
    #[arg(long, value_name = "QUANTITY")]
    pub max_memory: Option<String>,

    /// Host paths that must not be mounted (replaces the default list)
    #[arg(long, value_delimiter = ',', value_name = "PATHS")]
    pub sensitive_paths: Vec<String>,

    /// The Kubernetes version the manifests will be applied to (default: the latest known)
    #[arg(long, value_name = "M.m")]
    pub target_version: Option<String>,

    /// The Kubernetes version the cluster runs today
    #[arg(long, value_name = "M.m")]
    pub current_version: Option<String>,

    /// Cloud metadata addresses (CIDRs) egress must not reach, besides 169.254.169.254,
    /// fd00:ec2::254 and 100.100.100.200
    #[arg(long, value_delimiter = ',', value_name = "CIDRS")]
    pub metadata_cidrs: Vec<String>,

    /// Internal ranges (pod, service, node CIDRs…) whose reachability through ipBlock egress
    /// rules is reported
    #[arg(long, value_delimiter = ',', value_name = "CIDRS")]
    pub internal_cidrs: Vec<String>,

    /// Registries or repository prefixes images must come from (`registry.example.com`,
    /// `ghcr.io/acme/`)
    #[arg(long, value_delimiter = ',', value_name = "PREFIXES")]
    pub allowed_registries: Vec<String>,

    /// Approved image pattern (repeatable; replaces the config's global list), e.g.
    /// `registry.example.com/base/**`: images matching none are reported (IMG007)
    #[arg(long = "approved-image", value_name = "PATTERN")]
    pub approved_images: Vec<String>,

    /// The label naming a workload's or namespace's tenant (default `tenant`)
    #[arg(long, value_name = "LABEL")]
    pub tenant_label: Option<String>,
}
