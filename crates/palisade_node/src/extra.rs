//! Palisade's own node checks beyond the benchmark: the container runtime (NOD6xx) and the
//! operating system (NOD7xx).

use crate::discover::{Runtime, RuntimeKind};
use crate::eval::{ControlResult, Cx, Evidence, Status};
use crate::host::Host;

struct Own {
    code: &'static str,
    name: &'static str,
    section: &'static str,
    title: &'static str,
    remediation: &'static str,
}

const SOCKET: Own = Own {
    code: "NOD601",
    name: "runtime-socket-permissions",
    section: "runtime",
    title: "Container runtime socket is owned by root and not accessible to others",
    remediation: "chown root the runtime socket and chmod 660 (or stricter); the socket grants full control of every container on the node.",
};
const PLAIN_REGISTRY: Own = Own {
    code: "NOD602",
    name: "runtime-registry-plain-http",
    section: "runtime",
    title: "Container runtime pulls images only over verified TLS",
    remediation: "Use https:// registry mirrors and remove `insecure`/`skip_verify` from the runtime's registry configuration.",
};
const UNPRIVILEGED_PORTS: Own = Own {
    code: "NOD603",
    name: "runtime-unprivileged-ports",
    section: "runtime",
    title: "Containers cannot bind privileged ports without NET_BIND_SERVICE",
    remediation: "Set `enable_unprivileged_ports = false` in the CRI plugin section of the containerd config unless workloads need ports below 1024 without NET_BIND_SERVICE.",
};
const RUNTIME_LSM: Own = Own {
    code: "NOD604",
    name: "runtime-lsm-enabled",
    section: "runtime",
    title: "Container runtime applies the host's AppArmor or SELinux confinement",
    remediation: "Remove `disable_apparmor = true` / set `enable_selinux = true` (containerd), or `selinux = true` and a confining `apparmor_profile` (CRI-O).",
};
const BPF: Own = Own {
    code: "NOD701",
    name: "kernel-unprivileged-bpf-disabled",
    section: "os",
    title: "Unprivileged eBPF is disabled (kernel.unprivileged_bpf_disabled)",
    remediation: "sysctl -w kernel.unprivileged_bpf_disabled=1 and persist it in /etc/sysctl.d/.",
};
const SWAP: Own = Own {
    code: "NOD702",
    name: "swap-disabled",
    section: "os",
    title: "Swap is off, or used deliberately through the kubelet's swap support",
    remediation: "swapoff -a and remove swap from /etc/fstab, or configure the kubelet's memorySwap.swapBehavior: LimitedSwap and encrypt the swap device.",
};
const HOST_LSM: Own = Own {
    code: "NOD703",
    name: "host-lsm-enabled",
    section: "os",
    title: "AppArmor or SELinux (enforcing) is enabled on the host",
    remediation: "Enable AppArmor (boot with apparmor=1 security=apparmor) or set SELinux to enforcing.",
};

/// Every check of palisade's own, in code order.
const OWN: [&Own; 7] = [
    &SOCKET,
    &PLAIN_REGISTRY,
    &UNPRIVILEGED_PORTS,
    &RUNTIME_LSM,
    &BPF,
    &SWAP,
    &HOST_LSM,
];

/// (code, name, title, section) of palisade's own checks.
pub(crate) fn own_checks()
-> impl Iterator<Item = (&'static str, &'static str, &'static str, &'static str)> {
    OWN.iter().map(|o| (o.code, o.name, o.title, o.section))
}

fn own(o: &Own, status: Status, evidence: Vec<Evidence>) -> ControlResult {
    ControlResult {
        id: o.code.to_owned(),
        code: o.code,
        name: o.name,
        section: o.section.to_owned(),
        group: o.section.to_owned(),
        title: o.title.to_owned(),
        automated: true,
        status,
        evidence,
        remediation: o.remediation.to_owned(),
    }
}

fn note(s: impl Into<String>) -> Vec<Evidence> {
    vec![Evidence::note(s)]
}

fn at(text: String, file: &str, line: u32) -> Evidence {
    Evidence {
        text,
        file: Some(file.to_owned()),
        line: Some(line),
        column: Some(1),
    }
}

/// A `key = value` of a TOML file with its full dotted table key and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TomlEntry {
    pub key: String,
    pub value: String,
    pub line: u32,
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
        .unwrap_or(s)
        .to_owned()
}

/// Splits a dotted TOML key on dots outside quotes.
fn key_parts(k: &str) -> Vec<String> {
    let (mut parts, mut cur, mut quote) = (Vec::new(), String::new(), None);
    for c in k.chars() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('.', None) => parts.push(std::mem::take(&mut cur).trim().to_owned()),
            _ => cur.push(c),
        }
    }
    parts.push(cur.trim().to_owned());
    parts
}

/// The subset of TOML runtime configs use: tables, dotted and quoted keys, strings, booleans,
/// numbers and arrays of strings (possibly over several lines). Enough to read the few keys
/// judged here; anything else is skipped, never misread as another key.
pub(crate) fn parse_toml(text: &str) -> Vec<TomlEntry> {
    let mut out = Vec::new();
    let mut table: Vec<String> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, raw)) = lines.next() {
        let line = strip_comment(raw).trim().to_owned();
        if line.is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix("[[").and_then(|h| h.strip_suffix("]]")) {
            table = key_parts(h);
            continue;
        }
        if let Some(h) = line.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            table = key_parts(h);
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let mut value = v.trim().to_owned();
        if value.starts_with('[') {
            while !value.contains(']') {
                match lines.next() {
                    Some((_, more)) => value.push_str(strip_comment(more).trim()),
                    None => break,
                }
            }
            let inner = value.trim_start_matches('[').trim_end_matches(']');
            value = inner
                .split(',')
                .map(unquote)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(",");
        } else {
            value = unquote(&value);
        }
        let mut key = table.clone();
        key.extend(key_parts(k));
        out.push(TomlEntry {
            key: key.join("."),
            value,
            line: n as u32 + 1,
        });
    }
    out
}

fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('#', None) => return &line[..i],
            _ => {}
        }
    }
    line
}

/// A runtime's configuration files (as it names them) with their entries.
struct RuntimeConfig {
    files: Vec<(String, Vec<TomlEntry>)>,
    errors: Vec<String>,
}

impl RuntimeConfig {
    fn find<'a>(&'a self, suffix: &'a str) -> impl Iterator<Item = (&'a str, &'a TomlEntry)> + 'a {
        self.files.iter().flat_map(move |(f, es)| {
            es.iter()
                .filter(move |e| e.key == suffix || e.key.ends_with(&format!(".{suffix}")))
                .map(move |e| (f.as_str(), e))
        })
    }

    /// The last value of a key (later files and later lines win).
    fn last<'a>(&'a self, suffix: &'a str) -> Option<(&'a str, &'a TomlEntry)> {
        self.find(suffix).last()
    }
}

fn load_runtime_config(host: &Host, rt: &Runtime) -> RuntimeConfig {
    let mut names = Vec::new();
    match rt.kind {
        RuntimeKind::Containerd => names.push(
            rt.flags
                .get("config")
                .or_else(|| rt.flags.get("c"))
                .unwrap_or("/etc/containerd/config.toml")
                .to_owned(),
        ),
        RuntimeKind::Crio => {
            names.push(
                rt.flags
                    .get("config")
                    .unwrap_or("/etc/crio/crio.conf")
                    .to_owned(),
            );
            let dir = rt
                .flags
                .get("config-dir")
                .unwrap_or("/etc/crio/crio.conf.d");
            if let Ok(entries) = std::fs::read_dir(host.proc_path(Some(rt.pid), dir)) {
                let mut more: Vec<String> = entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| n.ends_with(".conf"))
                    .map(|n| format!("{}/{n}", dir.trim_end_matches('/')))
                    .collect();
                more.sort();
                names.extend(more);
            }
            names.push("/etc/containers/registries.conf".to_owned());
        }
    }
    let mut cfg = RuntimeConfig {
        files: Vec::new(),
        errors: Vec::new(),
    };
    for n in names {
        match std::fs::read_to_string(host.proc_path(Some(rt.pid), &n)) {
            Ok(text) => cfg.files.push((n, parse_toml(&text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => cfg.errors.push(format!("cannot read {n}: {e}")),
        }
    }
    // containerd's per-registry hosts.toml files.
    if let Some((_, e)) = cfg.last("registry.config_path") {
        let dirs: Vec<String> = e.value.split(':').map(str::to_owned).collect();
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(host.proc_path(Some(rt.pid), &dir)) else {
                continue;
            };
            let mut hosts: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .collect();
            hosts.sort();
            for h in hosts {
                let n = format!("{}/{h}/hosts.toml", dir.trim_end_matches('/'));
                if let Ok(text) = std::fs::read_to_string(host.proc_path(Some(rt.pid), &n)) {
                    cfg.files.push((n, parse_toml(&text)));
                }
            }
        }
    }
    cfg
}

pub(crate) fn judge_own(cx: &Cx<'_>) -> Vec<ControlResult> {
    let mut out = runtime_checks(cx);
    out.extend(os_checks(cx));
    out
}

fn runtime_checks(cx: &Cx<'_>) -> Vec<ControlResult> {
    let host = cx.host;
    let Some(rt) = cx.d.runtimes.first() else {
        let why = if cx.d.proc_readable {
            (
                Status::NotApplicable,
                note("no containerd or CRI-O process runs on this node"),
            )
        } else {
            (Status::Error, note("/proc is not readable"))
        };
        return [&SOCKET, &PLAIN_REGISTRY, &UNPRIVILEGED_PORTS, &RUNTIME_LSM]
            .into_iter()
            .map(|o| own(o, why.0, why.1.clone()))
            .collect();
    };
    let cfg = load_runtime_config(host, rt);
    if let Some(e) = cfg.errors.first() {
        let mut out = vec![];
        for o in [&SOCKET, &PLAIN_REGISTRY, &UNPRIVILEGED_PORTS, &RUNTIME_LSM] {
            out.push(own(o, Status::Error, note(e.clone())));
        }
        return out;
    }
    let name = match rt.kind {
        RuntimeKind::Containerd => "containerd",
        RuntimeKind::Crio => "CRI-O",
    };
    let mut out = Vec::new();

    // NOD601: the socket.
    let socket = match rt.kind {
        RuntimeKind::Containerd => rt
            .flags
            .get("address")
            .or_else(|| rt.flags.get("a"))
            .map(str::to_owned)
            .or_else(|| cfg.last("grpc.address").map(|(_, e)| e.value.clone()))
            .unwrap_or_else(|| "/run/containerd/containerd.sock".to_owned()),
        RuntimeKind::Crio => cfg
            .last("crio.api.listen")
            .map(|(_, e)| e.value.clone())
            .unwrap_or_else(|| "/var/run/crio/crio.sock".to_owned()),
    };
    out.push(
        match host.stat(&host.proc_path(Some(rt.pid), &socket), &socket) {
            Ok(f) => {
                let ok = f.uid == 0 && f.mode & 0o007 == 0;
                let mut e = Evidence::note(f.describe());
                e.file = Some(socket.clone());
                if !ok {
                    e.text
                        .push_str(" — must be owned by uid 0 with no access for others");
                }
                own(
                    &SOCKET,
                    if ok { Status::Pass } else { Status::Fail },
                    vec![e],
                )
            }
            Err(e) => own(
                &SOCKET,
                Status::Error,
                note(format!("{name} socket {socket} cannot be read: {e}")),
            ),
        },
    );

    // NOD602: plain-HTTP or unverified registries.
    let mut bad = Vec::new();
    for (file, es) in &cfg.files {
        for e in es {
            let insecure_key = e.key.ends_with(".endpoint")
                || e.key == "server"
                || e.key.ends_with(".insecure")
                || e.key.ends_with("skip_verify")
                || e.key.ends_with("insecure_skip_verify");
            let plain = e.value.split(',').any(|v| v.starts_with("http://"))
                && (e.key.ends_with(".endpoint") || e.key == "server");
            let unverified = (e.key.ends_with(".insecure") || e.key.ends_with("skip_verify"))
                && e.value == "true";
            if insecure_key && (plain || unverified) {
                bad.push(at(format!("{} = {}", e.key, e.value), file, e.line));
            } else if let Some(rest) = e.key.strip_prefix("host.http://") {
                let table = rest.rsplit_once('.').map_or(rest, |(t, _)| t);
                let text = format!("[host.\"http://{table}\"]: a plain-HTTP registry host");
                if !bad.iter().any(|b: &Evidence| b.text == text) {
                    bad.push(at(text, file, e.line.saturating_sub(1).max(1)));
                }
            }
        }
    }
    out.push(if bad.is_empty() {
        own(
            &PLAIN_REGISTRY,
            Status::Pass,
            note(format!(
                "no plain-HTTP or unverified registry in {}",
                cfg.files
                    .iter()
                    .map(|(f, _)| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )
    } else {
        own(&PLAIN_REGISTRY, Status::Fail, bad)
    });

    // NOD603: unprivileged ports (containerd only).
    out.push(match (rt.kind, cfg.last("enable_unprivileged_ports")) {
        (RuntimeKind::Crio, _) => own(
            &UNPRIVILEGED_PORTS,
            Status::NotApplicable,
            note("CRI-O sets no such default; pods change it through sysctls"),
        ),
        (_, Some((file, e))) if e.value == "true" => own(
            &UNPRIVILEGED_PORTS,
            Status::Warn,
            vec![at(
                "enable_unprivileged_ports = true: every container may bind ports below 1024"
                    .to_owned(),
                file,
                e.line,
            )],
        ),
        (_, Some((file, e))) => own(
            &UNPRIVILEGED_PORTS,
            Status::Pass,
            vec![at(
                format!("enable_unprivileged_ports = {}", e.value),
                file,
                e.line,
            )],
        ),
        (_, None) => own(
            &UNPRIVILEGED_PORTS,
            Status::Pass,
            note("enable_unprivileged_ports is not set (containerd 1.x default false)"),
        ),
    });

    // NOD604: AppArmor / SELinux in the runtime.
    let selinux_host = host.read_trimmed("/sys/fs/selinux/enforce").as_deref() == Some("1");
    let mut bad = Vec::new();
    let mut ev = Vec::new();
    match rt.kind {
        RuntimeKind::Containerd => {
            if let Some((f, e)) = cfg.last("disable_apparmor")
                && e.value == "true"
            {
                bad.push(at("disable_apparmor = true".to_owned(), f, e.line));
            }
            let selinux = cfg.last("enable_selinux");
            if selinux_host && selinux.is_none_or(|(_, e)| e.value != "true") {
                let mut e = Evidence::note(
                    "the host enforces SELinux but containerd's enable_selinux is not true",
                );
                if let Some((f, s)) = selinux {
                    e = at(e.text, f, s.line);
                }
                bad.push(e);
            }
        }
        RuntimeKind::Crio => {
            if let Some((f, e)) = cfg.last("crio.runtime.apparmor_profile")
                && e.value == "unconfined"
            {
                bad.push(at(
                    "apparmor_profile = \"unconfined\"".to_owned(),
                    f,
                    e.line,
                ));
            }
            let selinux = cfg.last("crio.runtime.selinux");
            if selinux_host && selinux.is_none_or(|(_, e)| e.value != "true") {
                bad.push(Evidence::note(
                    "the host enforces SELinux but CRI-O's selinux is not true",
                ));
            }
        }
    }
    if bad.is_empty() {
        ev.push(Evidence::note(format!(
            "{name} does not disable the host's confinement{}",
            if selinux_host {
                " (SELinux enforcing)"
            } else {
                ""
            }
        )));
        out.push(own(&RUNTIME_LSM, Status::Pass, ev));
    } else {
        out.push(own(&RUNTIME_LSM, Status::Fail, bad));
    }
    out
}

fn os_checks(cx: &Cx<'_>) -> Vec<ControlResult> {
    let host = cx.host;
    let mut out = Vec::new();
    let bpf = "/proc/sys/kernel/unprivileged_bpf_disabled";
    out.push(match host.read_trimmed(bpf) {
        Some(v) if v == "1" || v == "2" => own(
            &BPF,
            Status::Pass,
            vec![Evidence::file(
                format!("kernel.unprivileged_bpf_disabled = {v}"),
                bpf,
            )],
        ),
        Some(v) => own(
            &BPF,
            Status::Fail,
            vec![Evidence::file(
                format!("kernel.unprivileged_bpf_disabled = {v} — must be 1 or 2"),
                bpf,
            )],
        ),
        None => own(
            &BPF,
            Status::NotApplicable,
            note(format!("{bpf} does not exist (kernel without eBPF)")),
        ),
    });

    let swaps = "/proc/swaps";
    out.push(match host.read_trimmed(swaps) {
        Some(text) => {
            let active: Vec<&str> = text
                .lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().next())
                .collect();
            let behavior = cx
                .kubelet_config
                .as_ref()
                .and_then(|c| c.as_ref().ok())
                .and_then(|c| c.get("memorySwap.swapBehavior"))
                .map(|v| v.value.clone());
            match (active.is_empty(), behavior.as_deref()) {
                (true, _) => own(&SWAP, Status::Pass, note("no active swap device in /proc/swaps")),
                (false, Some("LimitedSwap")) => own(
                    &SWAP,
                    Status::Pass,
                    note(format!(
                        "swap on {} used through the kubelet's memorySwap.swapBehavior: LimitedSwap",
                        active.join(", ")
                    )),
                ),
                (false, _) => own(
                    &SWAP,
                    Status::Warn,
                    vec![Evidence::file(
                        format!(
                            "swap is active on {}: pod memory (and the Secrets in it) can be written to disk",
                            active.join(", ")
                        ),
                        swaps,
                    )],
                ),
            }
        }
        None => own(&SWAP, Status::NotApplicable, note("/proc/swaps is not readable")),
    });

    let apparmor = host.read_trimmed("/sys/module/apparmor/parameters/enabled");
    let selinux = host.read_trimmed("/sys/fs/selinux/enforce");
    out.push(match (apparmor.as_deref(), selinux.as_deref()) {
        (Some("Y"), _) => own(&HOST_LSM, Status::Pass, note("AppArmor is enabled")),
        (_, Some("1")) => own(&HOST_LSM, Status::Pass, note("SELinux is enforcing")),
        (_, Some(_)) => own(
            &HOST_LSM,
            Status::Fail,
            note("SELinux is permissive and AppArmor is not enabled"),
        ),
        _ if !host.path("/sys").is_dir() => own(
            &HOST_LSM,
            Status::NotApplicable,
            note("no /sys under the audited root"),
        ),
        _ => own(
            &HOST_LSM,
            Status::Fail,
            note("neither AppArmor nor SELinux is enabled"),
        ),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_tables_quoted_keys_and_arrays() {
        let t = parse_toml(
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  enable_unprivileged_ports = true # c\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  endpoint = [\"http://m:5000\",\n  \"https://x\"]\n",
        );
        assert_eq!(
            t[1].key,
            "plugins.io.containerd.grpc.v1.cri.enable_unprivileged_ports"
        );
        assert_eq!(t[1].value, "true");
        assert_eq!(t[2].value, "http://m:5000,https://x");
        assert_eq!(t[2].line, 5);
    }
}
