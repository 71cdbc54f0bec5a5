//! Certificates: a self-signed CA and serving certificate for `--self-signed` (and for the
//! tests), and reloading the serving certificate when its files change.

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::log::{DecisionLog, EventLine};
use crate::metrics::{Metrics, ResultLabels};

/// A CA and a serving certificate it signed, all PEM.
#[derive(Clone, Debug)]
pub struct Certs {
    pub ca_cert: String,
    pub ca_key: String,
    pub cert: String,
    pub key: String,
}

/// A CA, kept to sign more serving certificates (rotation tests, `--self-signed`).
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pub cert_pem: String,
}

impl Ca {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Result<Ca, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert_pem = params.self_signed(&key)?.pem();
        Ok(Ca {
            params,
            key,
            cert_pem,
        })
    }

    /// A serving certificate for `names` (DNS names or IP addresses): (cert PEM, key PEM).
    pub fn serving(&self, names: &[String]) -> Result<(String, String), rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.to_vec())?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }
}

/// A new CA and a serving certificate for `names`.
pub fn self_signed(names: &[String]) -> Result<Certs, rcgen::Error> {
    let ca = Ca::new("palisade webhook CA")?;
    let (cert, key) = ca.serving(names)?;
    Ok(Certs {
        ca_key: ca.key_pem(),
        ca_cert: ca.cert_pem,
        cert,
        key,
    })
}

/// Installs ring as the process's rustls provider (the only one compiled in).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn fingerprint(cert: &[u8], key: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    cert.hash(&mut h);
    key.hash(&mut h);
    h.finish()
}

/// Watches the certificate and key files and reloads them into `config` when their content
/// changes (cert-manager rotates a Secret by rewriting the mounted files). A pair that does
/// not load (a file half-written) is reported and retried at the next change; the previous
/// certificate stays in use meanwhile. Connections in progress are not affected.
pub async fn watch(
    config: RustlsConfig,
    cert: PathBuf,
    key: PathBuf,
    interval: Duration,
    metrics: std::sync::Arc<Metrics>,
    log: std::sync::Arc<DecisionLog>,
) {
    let read = |p: &Path| std::fs::read(p).ok();
    let mut last = match (read(&cert), read(&key)) {
        (Some(c), Some(k)) => fingerprint(&c, &k),
        _ => 0,
    };
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let (Some(c), Some(k)) = (read(&cert), read(&key)) else {
            continue;
        };
        let now = fingerprint(&c, &k);
        if now == last {
            continue;
        }
        last = now;
        match config.reload_from_pem(c, k).await {
            Ok(()) => {
                metrics
                    .tls_reloads
                    .get_or_create(&ResultLabels { result: "ok" })
                    .inc();
                log.write(&EventLine::new(
                    "tls-reload",
                    &format!("reloaded {} and {}", cert.display(), key.display()),
                ));
            }
            Err(e) => {
                metrics
                    .tls_reloads
                    .get_or_create(&ResultLabels { result: "error" })
                    .inc();
                log.write(&EventLine::new(
                    "tls-reload-error",
                    &format!(
                        "{} and {} changed but do not load ({e}); the previous certificate stays in use",
                        cert.display(),
                        key.display()
                    ),
                ));
            }
        }
    }
}
