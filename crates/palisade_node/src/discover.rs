//! Finds the Kubernetes components running on the node from `/proc/<pid>/cmdline`, by binary
//! name, including the components that k3s, hyperkube and OpenShift run inside one binary.

use std::collections::BTreeMap;

use crate::catalog::Component;
use crate::config::Config;
use crate::flags::Flags;
use crate::host::Host;

/// A running component with its effective flags.
#[derive(Clone, Debug)]
pub struct Process {
    pub pid: u32,
    pub component: Component,
    /// How it was found, e.g. `kube-apiserver` or `k3s server`.
    pub found_as: String,
    pub flags: Flags,
    /// Where a flag came from when not from this process's command line (k3s configuration,
    /// k3s built-in arguments, an etcd config file).
    pub flag_sources: BTreeMap<String, String>,
    /// `ETCD_*` and other environment variables (readable with root or CAP_SYS_PTRACE).
    pub env: BTreeMap<String, String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

impl Process {
    /// Where flag `name` came from, for evidence.
    pub fn flag_source(&self, name: &str) -> String {
        self.flag_sources
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("command line of {} (pid {})", self.found_as, self.pid))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeKind {
    Containerd,
    Crio,
}

/// A container runtime process.
#[derive(Clone, Debug)]
pub struct Runtime {
    pub pid: u32,
    pub kind: RuntimeKind,
    pub flags: Flags,
}

/// Everything found on the node.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub processes: Vec<Process>,
    pub runtimes: Vec<Runtime>,
    /// k3s, rke2, openshift or kubeadm, from facts on the node.
    pub distribution: Option<&'static str>,
    /// Problems reading `/proc` or configuration, reported as errors.
    pub errors: Vec<String>,
    /// Whether `/proc` could be listed at all.
    pub proc_readable: bool,
}

impl Discovery {
    /// The first running process of a component.
    pub fn get(&self, c: Component) -> Option<&Process> {
        self.processes.iter().find(|p| p.component == c)
    }
}

/// Arguments k3s passes to the components it embeds when nothing overrides them (k3s 1.32,
/// `pkg/daemons/control/server.go` and `pkg/daemons/agent`), so settings the user never wrote
/// are still judged.
const K3S_DEFAULTS: &[(Component, &str, &str)] = &[
    (Component::ApiServer, "anonymous-auth", "false"),
    (Component::ApiServer, "authorization-mode", "Node,RBAC"),
    (Component::ApiServer, "bind-address", "127.0.0.1"),
    (
        Component::ApiServer,
        "client-ca-file",
        "/var/lib/rancher/k3s/server/tls/client-ca.crt",
    ),
    (
        Component::ApiServer,
        "enable-admission-plugins",
        "NodeRestriction",
    ),
    (
        Component::ApiServer,
        "etcd-cafile",
        "/var/lib/rancher/k3s/server/tls/etcd/server-ca.crt",
    ),
    (
        Component::ApiServer,
        "etcd-certfile",
        "/var/lib/rancher/k3s/server/tls/etcd/client.crt",
    ),
    (
        Component::ApiServer,
        "etcd-keyfile",
        "/var/lib/rancher/k3s/server/tls/etcd/client.key",
    ),
    (
        Component::ApiServer,
        "kubelet-certificate-authority",
        "/var/lib/rancher/k3s/server/tls/server-ca.crt",
    ),
    (
        Component::ApiServer,
        "kubelet-client-certificate",
        "/var/lib/rancher/k3s/server/tls/client-kube-apiserver.crt",
    ),
    (
        Component::ApiServer,
        "kubelet-client-key",
        "/var/lib/rancher/k3s/server/tls/client-kube-apiserver.key",
    ),
    (Component::ApiServer, "profiling", "false"),
    (
        Component::ApiServer,
        "service-account-key-file",
        "/var/lib/rancher/k3s/server/tls/service.key",
    ),
    (Component::ApiServer, "service-account-lookup", "true"),
    (
        Component::ApiServer,
        "tls-cert-file",
        "/var/lib/rancher/k3s/server/tls/serving-kube-apiserver.crt",
    ),
    (
        Component::ApiServer,
        "tls-private-key-file",
        "/var/lib/rancher/k3s/server/tls/serving-kube-apiserver.key",
    ),
    (
        Component::ApiServer,
        "tls-cipher-suites",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    ),
    (Component::ControllerManager, "bind-address", "127.0.0.1"),
    (
        Component::ControllerManager,
        "kubeconfig",
        "/var/lib/rancher/k3s/server/cred/controller.kubeconfig",
    ),
    (Component::ControllerManager, "profiling", "false"),
    (
        Component::ControllerManager,
        "root-ca-file",
        "/var/lib/rancher/k3s/server/tls/server-ca.crt",
    ),
    (
        Component::ControllerManager,
        "service-account-private-key-file",
        "/var/lib/rancher/k3s/server/tls/service.current.key",
    ),
    (
        Component::ControllerManager,
        "use-service-account-credentials",
        "true",
    ),
    (Component::Scheduler, "bind-address", "127.0.0.1"),
    (
        Component::Scheduler,
        "kubeconfig",
        "/var/lib/rancher/k3s/server/cred/scheduler.kubeconfig",
    ),
    (Component::Scheduler, "profiling", "false"),
    (Component::Kubelet, "anonymous-auth", "false"),
    (Component::Kubelet, "authentication-token-webhook", "true"),
    (Component::Kubelet, "authorization-mode", "Webhook"),
    (
        Component::Kubelet,
        "client-ca-file",
        "/var/lib/rancher/k3s/agent/client-ca.crt",
    ),
    (
        Component::Kubelet,
        "kubeconfig",
        "/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
    ),
    (Component::Kubelet, "read-only-port", "0"),
    (
        Component::Kubelet,
        "tls-cert-file",
        "/var/lib/rancher/k3s/agent/serving-kubelet.crt",
    ),
    (
        Component::Kubelet,
        "tls-private-key-file",
        "/var/lib/rancher/k3s/agent/serving-kubelet.key",
    ),
    (
        Component::KubeProxy,
        "kubeconfig",
        "/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig",
    ),
];

/// The k3s pass-through flag of each embedded component.
fn k3s_arg_flag(c: Component) -> &'static str {
    match c {
        Component::ApiServer => "kube-apiserver-arg",
        Component::ControllerManager => "kube-controller-manager-arg",
        Component::Scheduler => "kube-scheduler-arg",
        Component::Kubelet => "kubelet-arg",
        Component::KubeProxy => "kube-proxy-arg",
        _ => "etcd-arg",
    }
}

const K3S_ETCD_CONFIG: &str = "/var/lib/rancher/k3s/server/db/etcd/config";

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Which components a command line runs, and where its own flags start.
fn identify(argv: &[String]) -> (Vec<Component>, usize, String) {
    use Component::*;
    let name = basename(&argv[0]);
    let arg = |i: usize| argv.get(i).map(String::as_str).unwrap_or("");
    let single = |c: Component| (vec![c], 1, name.to_owned());
    match name {
        "kube-apiserver" | "apiserver" => single(ApiServer),
        "kube-controller-manager" | "controller-manager" => single(ControllerManager),
        "kube-scheduler" | "scheduler" => single(Scheduler),
        "etcd" => single(Etcd),
        "kubelet" => single(Kubelet),
        "kube-proxy" => single(KubeProxy),
        "hyperkube" => {
            let c = match arg(1) {
                "apiserver" | "kube-apiserver" => ApiServer,
                "controller-manager" | "kube-controller-manager" => ControllerManager,
                "scheduler" | "kube-scheduler" => Scheduler,
                "kubelet" => Kubelet,
                "proxy" | "kube-proxy" => KubeProxy,
                _ => return (vec![], 0, String::new()),
            };
            (vec![c], 2, format!("hyperkube {}", arg(1)))
        }
        "openshift" if arg(1) == "start" => {
            let (cs, n) = match (arg(2), arg(3)) {
                ("master", "api") => (vec![ApiServer], 4),
                ("master", "controllers") => (vec![ControllerManager, Scheduler], 4),
                ("etcd", _) => (vec![Etcd], 3),
                ("network", _) => (vec![KubeProxy], 3),
                ("node", _) => (vec![Kubelet], 3),
                _ => (vec![], 0),
            };
            (cs, n, argv[..n.min(argv.len())].join(" "))
        }
        "hypershift" => {
            let c = match arg(1) {
                "openshift-kube-apiserver" => ApiServer,
                "openshift-controller-manager" => ControllerManager,
                _ => return (vec![], 0, String::new()),
            };
            (vec![c], 2, format!("hypershift {}", arg(1)))
        }
        "k3s" => match arg(1) {
            "server" => (
                vec![ApiServer, ControllerManager, Scheduler, Kubelet, KubeProxy],
                2,
                "k3s server".to_owned(),
            ),
            "agent" => (vec![Kubelet, KubeProxy], 2, "k3s agent".to_owned()),
            _ => (vec![], 0, String::new()),
        },
        _ => (vec![], 0, String::new()),
    }
}

fn read_nul_list(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn ids(status: &str, field: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Lists `/proc` under the host root and identifies every component.
pub fn discover(host: &Host) -> Discovery {
    let mut d = Discovery::default();
    let proc_dir = host.path("/proc");
    let mut pids: Vec<u32> = match std::fs::read_dir(&proc_dir) {
        Ok(entries) => {
            d.proc_readable = true;
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        }
        Err(e) => {
            d.errors
                .push(format!("cannot list {}: {e}", proc_dir.display()));
            return d;
        }
    };
    pids.sort_unstable();
    for pid in pids {
        let base = proc_dir.join(pid.to_string());
        let Ok(raw) = std::fs::read(base.join("cmdline")) else {
            continue;
        };
        let mut argv = read_nul_list(&raw);
        // Programs that rewrite their title (k3s) may leave `k3s server` as one argument.
        if argv.first().is_some_and(|a| a.contains(' ')) {
            let first: Vec<String> = argv[0].split_whitespace().map(str::to_owned).collect();
            argv.splice(0..1, first);
        }
        if argv.is_empty() {
            continue;
        }
        let status = std::fs::read_to_string(base.join("status")).unwrap_or_default();
        let (uid, gid) = (ids(&status, "Uid:"), ids(&status, "Gid:"));
        match basename(&argv[0]) {
            "containerd" | "crio" => {
                let kind = if basename(&argv[0]) == "crio" {
                    RuntimeKind::Crio
                } else {
                    RuntimeKind::Containerd
                };
                d.runtimes.push(Runtime {
                    pid,
                    kind,
                    flags: Flags::parse(&argv[1..]),
                });
                continue;
            }
            "rke2" => d.distribution = Some("rke2"),
            _ => {}
        }
        let (components, start, found_as) = identify(&argv);
        if components.is_empty() {
            continue;
        }
        let env: BTreeMap<String, String> = std::fs::read(base.join("environ"))
            .map(|e| {
                read_nul_list(&e)
                    .into_iter()
                    .filter_map(|kv| {
                        let (k, v) = kv.split_once('=')?;
                        Some((k.to_owned(), v.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let flags = Flags::parse(&argv[start.min(argv.len())..]);
        if found_as.starts_with("k3s") {
            d.distribution = Some("k3s");
            k3s_components(host, pid, &found_as, &flags, uid, gid, &mut d);
            continue;
        }
        if found_as.starts_with("openshift") || found_as.starts_with("hypershift") {
            d.distribution = Some("openshift");
        }
        for c in components {
            let mut p = Process {
                pid,
                component: c,
                found_as: found_as.clone(),
                flags: flags.clone(),
                flag_sources: BTreeMap::new(),
                env: env.clone(),
                uid,
                gid,
            };
            if c == Component::Etcd
                && let Some(file) = p.flags.get("config-file").map(str::to_owned)
            {
                // etcd ignores its flags and environment when given a config file.
                let path = host.proc_path(Some(pid), &file);
                match Config::load(&path, &file) {
                    Ok(cfg) => {
                        p.flags = Flags::default();
                        p.env.retain(|k, _| !k.starts_with("ETCD_"));
                        etcd_config_flags(&cfg, &mut p);
                    }
                    Err(e) => d.errors.push(e),
                }
            }
            d.processes.push(p);
        }
    }
    if d.distribution.is_none() {
        if host.path("/var/lib/rancher/rke2").is_dir() {
            d.distribution = Some("rke2");
        } else if host.path("/etc/kubernetes/manifests").is_dir() {
            d.distribution = Some("kubeadm");
        }
    }
    d
}

/// etcd's YAML config keys as flags (`client-transport-security.cert-file` → `--cert-file`).
fn etcd_config_flags(cfg: &Config, p: &mut Process) {
    for (key, v) in &cfg.values {
        let flag = if let Some(k) = key.strip_prefix("client-transport-security.") {
            k.to_owned()
        } else if let Some(k) = key.strip_prefix("peer-transport-security.") {
            format!("peer-{k}")
        } else if key.contains('.') || key.contains('[') {
            continue;
        } else {
            key.clone()
        };
        p.flags.set(&flag, v.value.clone());
        p.flag_sources
            .insert(flag, format!("{}:{} (`{key}`)", v.file, v.line));
    }
}

/// The components inside one `k3s server|agent` process: k3s's own arguments, then the
/// k3s config file and its drop-ins, then the command line.
fn k3s_components(
    host: &Host,
    pid: u32,
    found_as: &str,
    cli: &Flags,
    uid: Option<u32>,
    gid: Option<u32>,
    d: &mut Discovery,
) {
    let server = found_as == "k3s server";
    let config_path = cli
        .get("config")
        .or_else(|| cli.get("c"))
        .unwrap_or("/etc/rancher/k3s/config.yaml")
        .to_owned();
    let mut layers: Vec<(Flags, String)> = Vec::new();
    let mut files = vec![config_path.clone()];
    if let Ok(dir) = std::fs::read_dir(host.proc_path(Some(pid), &format!("{config_path}.d"))) {
        let mut names: Vec<String> = dir
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
            .collect();
        names.sort();
        files.extend(names.into_iter().map(|n| format!("{config_path}.d/{n}")));
    }
    for file in files {
        let path = host.proc_path(Some(pid), &file);
        if !path.exists() {
            continue;
        }
        match Config::load(&path, &file) {
            Ok(cfg) => {
                let mut f = Flags::default();
                for (k, v) in &cfg.values {
                    match &v.items {
                        Some(items) => items.iter().for_each(|i| f.set(k, i.clone())),
                        None => f.set(k, v.value.clone()),
                    }
                }
                layers.push((f, file));
            }
            Err(e) => d.errors.push(e),
        }
    }
    layers.push((
        cli.clone(),
        format!("command line of {found_as} (pid {pid})"),
    ));
    let k3s_flag = |name: &str| {
        layers
            .iter()
            .rev()
            .find_map(|(f, src)| f.get(name).map(|v| (v.to_owned(), src.clone())))
    };
    let truthy = |name: &str| k3s_flag(name).is_some_and(|(v, _)| v == "true");
    let mut components = vec![Component::Kubelet, Component::KubeProxy];
    if server {
        components.retain(|_| !truthy("disable-agent"));
        for (c, off) in [
            (Component::ApiServer, "disable-apiserver"),
            (Component::ControllerManager, "disable-controller-manager"),
            (Component::Scheduler, "disable-scheduler"),
        ] {
            if !truthy(off) {
                components.push(c);
            }
        }
    }
    if truthy("disable-kube-proxy") {
        components.retain(|&c| c != Component::KubeProxy);
    }
    for c in components {
        let mut p = Process {
            pid,
            component: c,
            found_as: format!("{found_as} ({})", c.as_str()),
            flags: Flags::default(),
            flag_sources: BTreeMap::new(),
            env: BTreeMap::new(),
            uid,
            gid,
        };
        for &(dc, name, value) in K3S_DEFAULTS {
            if dc == c {
                p.flags.set(name, value.to_owned());
                p.flag_sources.insert(
                    name.to_owned(),
                    format!("k3s built-in argument of {found_as}"),
                );
            }
        }
        if c == Component::ApiServer && truthy("secrets-encryption") {
            let (_, src) = k3s_flag("secrets-encryption").unwrap_or_default();
            p.flags.set(
                "encryption-provider-config",
                "/var/lib/rancher/k3s/server/cred/encryption-config.json".to_owned(),
            );
            p.flag_sources.insert(
                "encryption-provider-config".to_owned(),
                format!("k3s `secrets-encryption: true` ({src})"),
            );
        }
        if c == Component::Kubelet && truthy("protect-kernel-defaults") {
            p.flags.set("protect-kernel-defaults", "true".to_owned());
        }
        let pass = k3s_arg_flag(c);
        for (f, src) in &layers {
            for arg in f.occurrences(pass) {
                let (name, value) = arg.split_once('=').unwrap_or((arg.as_str(), "true"));
                let name = name.trim_start_matches('-');
                // k3s keeps one value per argument name: a later one replaces an earlier one
                // (and k3s's own), lists included.
                p.flags.remove(name);
                p.flags.set(name, value.to_owned());
                p.flag_sources
                    .insert(name.to_owned(), format!("{src} `{pass}: {arg}`"));
            }
        }
        d.processes.push(p);
    }
    if server {
        let etcd_cfg = host.proc_path(Some(pid), K3S_ETCD_CONFIG);
        if truthy("cluster-init") || etcd_cfg.exists() {
            let mut p = Process {
                pid,
                component: Component::Etcd,
                found_as: format!("{found_as} (embedded etcd)"),
                flags: Flags::default(),
                flag_sources: BTreeMap::new(),
                env: BTreeMap::new(),
                uid,
                gid,
            };
            match Config::load(&etcd_cfg, K3S_ETCD_CONFIG) {
                Ok(cfg) => etcd_config_flags(&cfg, &mut p),
                Err(e) => d.errors.push(e),
            }
            d.processes.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn identifies_binaries_and_wrappers() {
        use Component::*;
        assert_eq!(
            identify(&argv("/usr/local/bin/kube-apiserver --x=1")).0,
            [ApiServer]
        );
        assert_eq!(identify(&argv("hyperkube kubelet --x")).0, [Kubelet]);
        assert_eq!(identify(&argv("hyperkube kubelet --x")).1, 2);
        assert_eq!(
            identify(&argv("openshift start master controllers")).0,
            [ControllerManager, Scheduler]
        );
        assert_eq!(identify(&argv("k3s agent")).0, [Kubelet, KubeProxy]);
        assert!(
            identify(&argv("tail -f /var/log/kube-apiserver.log"))
                .0
                .is_empty()
        );
        assert!(identify(&argv("vim kubelet")).0.is_empty());
    }
}
