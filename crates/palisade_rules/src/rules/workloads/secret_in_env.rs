use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags container environment variables that hold a secret as a literal `value`:
    /// - variables named like a credential, where the name ends with `PASSWORD`, `PASSWD`,
    ///   `PWD` (after a prefix, as in `MYSQL_PWD`), `PASSPHRASE`, `SECRET`, `TOKEN`,
    ///   `API_KEY`/`APIKEY`, `PRIVATE_KEY`, `ACCESS_KEY`, `ACCESS_KEY_ID`, `SECRET_KEY` or
    ///   `CREDENTIAL(S)`, in any case, with `_`, `-`, `.` or camelCase between words;
    /// - any variable whose value looks like a credential: an AWS access key id
    ///   (`AKIA…`/`ASIA…`), a PEM private key, a GitHub token (`ghp_…`, `github_pat_…`), a
    ///   Slack token (`xoxb-…`), or a URL with a password in it (`postgres://app:pw@db/app`).
    ///
    /// Not reported, because they do not hold the secret itself: `valueFrom` references,
    /// empty values, values that refer to something else (`$(OTHER_VAR)`, `${VAR}`,
    /// `{{ template }}`, `<placeholder>`, a path such as `/var/run/secrets/token`, a
    /// secret-manager reference such as `vault:secret/app#password` or `arn:aws:…`), values
    /// that are booleans, numbers or `none`/`disabled`, and names where the secret word is
    /// not the last one (`TOKEN_PATH`, `SECRET_NAME`, `PASSWORD_FILE`, `TOKEN_TTL`), and
    /// upper-case slots for a deployment script to fill in (`INSERT_ETCD_TOKEN`,
    /// `YOUR_API_KEY`, a bare `SECRET`). A default such as `changeme` or `admin` is
    /// reported: it is the credential the workload gets if nobody replaces it.
    ///
    /// The finding never repeats the value.
    ///
    /// ## Why is this bad?
    /// A literal value is stored in the manifest, in version control, in the object in etcd
    /// (not encrypted like Secrets can be) and in every `kubectl get -o yaml` output; anyone
    /// who can read the workload can read the credential, and rotating it means editing and
    /// redeploying the workload.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: DB_PASSWORD
    ///     value: s3cr3t-pa55
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    ///   - name: DB_PASSWORD
    ///     valueFrom:
    ///       secretKeyRef:
    ///         name: db
    ///         key: password
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables
    /// - CIS Kubernetes Benchmark 5.4.1 (prefer secrets as files over environment variables)
    /// - kubeaudit has no equivalent
    pub SecretInEnv {
        code: "WKL032",
        name: "secret-in-env",
        section: Workloads,
        severity: High,
        summary: "Container environment variable holds a literal secret",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for SecretInEnv {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        for c in &pod.containers {
            let Some(env) = doc.get(c.node, "env") else {
                continue;
            };
            for (i, &var) in doc.items(env).iter().enumerate() {
                let Some(name) = doc.get(var, "name").and_then(|n| doc.str(n)) else {
                    continue;
                };
                let Some(value_node) = doc.get(var, "value") else {
                    continue;
                };
                let Some(value) = doc.str(value_node) else {
                    continue;
                };
                let value = value.trim();
                if value.is_empty() || is_reference(value) || is_template_slot(value) {
                    continue;
                }
                let what = match secret_pattern(value) {
                    Some(pattern) => format!("what looks like {pattern}"),
                    None if !mentions_secret_word(name) => continue,
                    None => match secret_name(name) {
                        Some(kind) if !is_not_a_secret(value) => format!("a literal {kind}"),
                        _ => continue,
                    },
                };
                let path = c.path.key("env").index(i).key("value");
                cx.report(value_node, path)
                    .redact_source()
                    .container(c)
                    .message(format!(
                        "{} sets env `{name}` to {what}: it is readable by anyone who can read \
                         the workload, and stays in every copy of the manifest",
                        c.describe()
                    ))
                    .remediation(
                        "store the value in a Secret and reference it with \
                         `valueFrom.secretKeyRef` (or mount the Secret as a file), then rotate \
                         the credential: it has been exposed",
                    );
            }
        }
    }
}

/// A cheap test, without allocating, that `name` may name a credential.
fn mentions_secret_word(name: &str) -> bool {
    const WORDS: &[&[u8]] = &[b"PASS", b"PWD", b"SECRET", b"TOKEN", b"KEY", b"CREDENTIAL"];
    let name = name.as_bytes();
    WORDS.iter().any(|w| {
        name.windows(w.len())
            .any(|window| window.eq_ignore_ascii_case(w))
    })
}

/// What a variable name says it holds, when it names a credential. The secret word must end
/// the name: `DB_PASSWORD` is a password, `PASSWORD_FILE` is a path.
fn secret_name(name: &str) -> Option<&'static str> {
    let words = words(name);
    let last = words.last()?.as_str();
    let before = |n: usize| words.len().checked_sub(n + 1).map(|i| words[i].as_str());
    let kind = match last {
        "PWD" if words.len() >= 2 => "password",
        "KEY" => match before(1)? {
            "API" => "API key",
            "PRIVATE" => "private key",
            "ACCESS" => "access key",
            "SECRET" => "secret key",
            _ => return None,
        },
        "ID" if before(1)? == "KEY" && before(2)? == "ACCESS" => "access key id",
        w if w.ends_with("PASSWORD") || w.ends_with("PASSWD") => "password",
        w if w.ends_with("PASSPHRASE") => "passphrase",
        w if w.ends_with("SECRET") => "secret",
        w if w.ends_with("TOKEN") => "token",
        w if w.ends_with("APIKEY") => "API key",
        w if w.ends_with("PRIVATEKEY") => "private key",
        w if w.ends_with("ACCESSKEY") => "access key",
        w if w.ends_with("CREDENTIAL") || w.ends_with("CREDENTIALS") => "credential",
        _ => return None,
    };
    Some(kind)
}

/// Upper-cased words of a variable name: split on anything but letters and digits, and
/// between a lower-case letter or digit and an upper-case one (`dbPassword`).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        word.push(ch.to_ascii_uppercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A value that points at the secret instead of holding it.
fn is_reference(value: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "/",
        "./",
        "../",
        "~/",
        "file:",
        "vault:",
        "ref+",
        "arn:aws:",
        "awssm:",
        "gcpsm:",
        "azkv:",
        "secretsmanager:",
        "projects/",
        "op://",
        "sops:",
        "env:",
        "secret:",
    ];
    value.contains("$(")
        || value.contains("${")
        || value.contains("{{")
        || (value.starts_with('<') && value.ends_with('>'))
        || PREFIXES.iter().any(|p| value.starts_with(p))
}

/// An upper-case slot a deployment script fills in (`INSERT_ETCD_TOKEN`, `YOUR_API_KEY`,
/// `SECRET`): an instruction, not a credential. The conventional defaults `CHANGE_ME` and
/// `REPLACE_ME` are not slots: they are deployed as they are when nobody replaces them.
fn is_template_slot(value: &str) -> bool {
    const FILL: &[&str] = &[
        "INSERT_", "YOUR_", "ENTER_", "FILL_", "PUT_", "REPLACE_", "CHANGE_",
    ];
    let screaming = value
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    screaming
        && ((FILL.iter().any(|p| value.starts_with(p)) && !value.ends_with("_ME"))
            || value.contains("PLACEHOLDER")
            || matches!(
                value,
                "SECRET" | "PASSWORD" | "TOKEN" | "API_KEY" | "APIKEY" | "CREDENTIALS"
            ))
}

/// A value that cannot be a credential: a boolean, a number, or a word meaning "none".
fn is_not_a_secret(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "none"
            | "null"
            | "nil"
            | "disabled"
            | "enabled"
            | "-"
            | "*"
            | "unset"
            | "empty"
    ) || value.parse::<f64>().is_ok()
        || ((value.starts_with("http://") || value.starts_with("https://"))
            && url_password(value).is_none())
}

/// Credentials recognisable by their shape, whatever the variable is called.
fn secret_pattern(value: &str) -> Option<&'static str> {
    if value.contains("-----BEGIN ") && value.contains("PRIVATE KEY-----") {
        return Some("a PEM private key");
    }
    if value.contains("EXAMPLE") {
        // AWS and GitHub documentation examples (AKIAIOSFODNN7EXAMPLE).
        return None;
    }
    for token in value.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
        if token.len() == 20
            && (token.starts_with("AKIA") || token.starts_with("ASIA"))
            && token[4..]
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Some("an AWS access key id");
        }
        let github = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
            .iter()
            .any(|p| token.starts_with(p))
            && token.len() == 40
            && token[4..].bytes().all(|b| b.is_ascii_alphanumeric());
        if github || (token.starts_with("github_pat_") && token.len() >= 40) {
            return Some("a GitHub token");
        }
        if token.len() >= 15
            && ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"]
                .iter()
                .any(|p| token.starts_with(p))
        {
            return Some("a Slack token");
        }
    }
    url_password(value).map(|_| "a URL with a password in it")
}

/// The password of a `scheme://user:password@host` URL, when it is a literal.
fn url_password(value: &str) -> Option<&str> {
    let (_, rest) = value.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty() && !is_reference(password)).then_some(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (name, kind) in [
            ("DB_PASSWORD", "password"),
            ("PGPASSWORD", "password"),
            ("MYSQL_PWD", "password"),
            ("dbPassword", "password"),
            ("GITHUB_TOKEN", "token"),
            ("clientSecret", "secret"),
            ("API_KEY", "API key"),
            ("x-api-key", "API key"),
            ("APIKey", "API key"),
            ("AWS_ACCESS_KEY_ID", "access key id"),
            ("AWS_SECRET_ACCESS_KEY", "access key"),
            ("JWT_SECRET_KEY", "secret key"),
            ("GOOGLE_CREDENTIALS", "credential"),
            ("TLS_PRIVATE_KEY", "private key"),
        ] {
            assert_eq!(secret_name(name), Some(kind), "{name}");
        }
        for name in [
            "TOKEN_PATH",
            "SECRET_NAME",
            "PASSWORD_FILE",
            "TOKEN_TTL",
            "PWD",
            "KEY",
            "SSH_KEY_ID",
            "ENCRYPTION_KEY",
            "TOKEN_URL",
            "SECRETS_DIR",
            "PASSWORD_MIN_LENGTH",
        ] {
            assert_eq!(secret_name(name), None, "{name}");
        }
    }

    #[test]
    fn values() {
        assert!(is_reference("$(DB_PASSWORD)"));
        assert!(is_reference("${TOKEN}"));
        assert!(is_reference("/var/run/secrets/token"));
        assert!(is_reference("<your-token>"));
        assert!(is_reference("vault:secret/data/app#password"));
        assert!(!is_reference("changeme"));
        assert!(is_template_slot("INSERT_ETCD_DISCOVERY_TOKEN"));
        assert!(is_template_slot("SECRET"));
        assert!(!is_template_slot("CHANGE_ME"));
        assert!(!is_template_slot("secret"));
        assert!(!is_template_slot("S3CR3T"));
        assert!(is_not_a_secret("True"));
        assert!(is_not_a_secret("3600"));
        assert!(is_not_a_secret("https://auth.example.com/token"));
        assert!(!is_not_a_secret("https://user:pw@example.com"));
        assert!(!is_not_a_secret("hunter2"));
        assert_eq!(
            secret_pattern("AKIAABCDEFGHIJKLMNOP"),
            Some("an AWS access key id")
        );
        assert_eq!(secret_pattern("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(
            secret_pattern("ghp_0123456789abcdefghijABCDEFGHIJ012345"),
            Some("a GitHub token")
        );
        assert_eq!(
            secret_pattern("xoxb-1234567890-abcdefghij"),
            Some("a Slack token")
        );
        assert_eq!(
            secret_pattern("-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
            Some("a PEM private key")
        );
        assert_eq!(
            secret_pattern("postgres://app:hunter2@db:5432/app"),
            Some("a URL with a password in it")
        );
        assert_eq!(secret_pattern("postgres://app:$(DB_PASSWORD)@db/app"), None);
        assert_eq!(secret_pattern("postgres://app@db/app"), None);
        assert_eq!(secret_pattern("plain-value"), None);
    }
}
