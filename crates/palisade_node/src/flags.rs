//! Command-line flags read the way the components' flag library (spf13/pflag) reads them.

use std::collections::BTreeMap;

/// Flags that take no value: `--profiling false` is `--profiling` (true) followed by an
/// argument, exactly as pflag reads it.
const BOOLEAN_FLAGS: &[&str] = &[
    "allow-privileged",
    "anonymous-auth",
    "authentication-token-webhook",
    "auto-tls",
    "client-cert-auth",
    "cluster-init",
    "enable-bootstrap-token-auth",
    "enable-aggregator-routing",
    "fail-swap-on",
    "make-iptables-util-chains",
    "peer-auto-tls",
    "peer-client-cert-auth",
    "profiling",
    "protect-kernel-defaults",
    "rotate-certificates",
    "rotate-server-certificates",
    "seccomp-default",
    "secrets-encryption",
    "selinux",
    "service-account-extend-token-expiration",
    "service-account-lookup",
    "use-service-account-credentials",
    "v",
];

/// Flags whose repetitions accumulate instead of replacing each other.
const LIST_FLAGS: &[&str] = &[
    "authorization-mode",
    "disable-admission-plugins",
    "enable-admission-plugins",
    "tls-cipher-suites",
    // k3s/rke2 pass-through arguments
    "kube-apiserver-arg",
    "kube-controller-manager-arg",
    "kube-scheduler-arg",
    "kubelet-arg",
    "kube-proxy-arg",
    "etcd-arg",
    "disable",
];

/// Whether a flag's repetitions accumulate (`--enable-admission-plugins`, `--feature-gates`).
pub fn is_list_flag(name: &str) -> bool {
    LIST_FLAGS.contains(&name)
}

/// The flags of one process: name (without dashes) → value, plus every positional argument.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    values: BTreeMap<String, String>,
    /// For list flags, each occurrence in order (needed for k3s pass-through arguments).
    lists: BTreeMap<String, Vec<String>>,
    pub positional: Vec<String>,
}

impl Flags {
    /// Parses arguments (without the program name or subcommand words).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Flags {
        let mut flags = Flags::default();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_ref();
            i += 1;
            if arg == "--" {
                flags
                    .positional
                    .extend(args[i..].iter().map(|a| a.as_ref().to_owned()));
                break;
            }
            let Some(body) = arg.strip_prefix("--").or_else(|| {
                arg.strip_prefix('-')
                    .filter(|b| !b.is_empty() && !b.starts_with(|c: char| c.is_ascii_digit()))
            }) else {
                flags.positional.push(arg.to_owned());
                continue;
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, v.to_owned()),
                None if BOOLEAN_FLAGS.contains(&body) => (body, "true".to_owned()),
                None => match args.get(i).map(AsRef::as_ref) {
                    // pflag gives a non-boolean flag the next argument whatever it is; flags
                    // unknown to the table above are taken as booleans when another flag
                    // follows, so a negative number still counts as a value.
                    Some(next) if !looks_like_flag(next) => {
                        i += 1;
                        (body, next.to_owned())
                    }
                    // A flag followed by another flag (or nothing): a bare boolean.
                    _ => (body, "true".to_owned()),
                },
            };
            flags.set(name, value);
        }
        flags
    }

    /// Sets a flag as if it came next on the command line.
    pub fn set(&mut self, name: &str, value: String) {
        if name == "feature-gates" {
            let mut gates = self.feature_gates();
            for (k, v) in parse_gates(&value) {
                gates.insert(k, v);
            }
            let joined = gates
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            self.values.insert(name.to_owned(), joined);
        } else if is_list_flag(name) {
            self.lists
                .entry(name.to_owned())
                .or_default()
                .push(value.clone());
            let merged = self.lists[name]
                .iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(",");
            self.values.insert(name.to_owned(), merged);
        } else {
            self.values.insert(name.to_owned(), value);
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.values.remove(name);
        self.lists.remove(name);
    }

    /// A flag's value (for list flags, every occurrence merged with commas).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name.trim_start_matches('-'))
            .map(String::as_str)
    }

    /// Each occurrence of a list flag, unsplit.
    pub fn occurrences(&self, name: &str) -> &[String] {
        self.lists.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// `--feature-gates` as a map (later keys override earlier ones).
    pub fn feature_gates(&self) -> BTreeMap<String, String> {
        self.values
            .get("feature-gates")
            .map(|v| parse_gates(v).collect())
            .unwrap_or_default()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

fn looks_like_flag(arg: &str) -> bool {
    arg.starts_with("--")
        || (arg.len() > 1
            && arg.starts_with('-')
            && !arg[1..].starts_with(|c: char| c.is_ascii_digit()))
}

fn parse_gates(v: &str) -> impl Iterator<Item = (String, String)> + '_ {
    v.split(',').filter_map(|g| {
        let (k, v) = g.split_once('=')?;
        Some((k.trim().to_owned(), v.trim().to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_and_last_one_wins() {
        let f = Flags::parse(&[
            "--audit-log-maxage",
            "30",
            "--profiling=true",
            "--profiling=false",
            "--bind-address=0.0.0.0",
            "--bind-address",
            "127.0.0.1",
        ]);
        assert_eq!(f.get("audit-log-maxage"), Some("30"));
        assert_eq!(f.get("--profiling"), Some("false"));
        assert_eq!(f.get("bind-address"), Some("127.0.0.1"));
    }

    #[test]
    fn booleans_never_take_the_next_argument() {
        let f = Flags::parse(&["--anonymous-auth", "false", "--x"]);
        assert_eq!(f.get("anonymous-auth"), Some("true"));
        assert_eq!(f.positional, ["false"]);
        assert_eq!(f.get("x"), Some("true"));
    }

    #[test]
    fn list_flags_merge_and_gates_are_a_map() {
        let f = Flags::parse(&[
            "--enable-admission-plugins=NodeRestriction",
            "--enable-admission-plugins",
            "AlwaysPullImages,EventRateLimit",
            "--feature-gates=RotateKubeletServerCertificate=false,Foo=true",
            "--feature-gates=RotateKubeletServerCertificate=true",
            "--authorization-mode=Node,RBAC",
        ]);
        assert_eq!(
            f.get("enable-admission-plugins"),
            Some("NodeRestriction,AlwaysPullImages,EventRateLimit")
        );
        let gates = f.feature_gates();
        assert_eq!(gates["RotateKubeletServerCertificate"], "true");
        assert_eq!(gates["Foo"], "true");
        assert_eq!(f.get("authorization-mode"), Some("Node,RBAC"));
    }

    #[test]
    fn single_dash_and_negative_numbers() {
        let f = Flags::parse(&["-v=2", "--event-qps", "-1", "server"]);
        assert_eq!(f.get("v"), Some("2"));
        assert_eq!(f.get("event-qps"), Some("-1"));
        assert_eq!(f.positional, ["server"]);
    }
}
