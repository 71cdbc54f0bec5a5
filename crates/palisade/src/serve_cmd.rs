//! `palisade serve`: the admission webhook (validating and mutating) over HTTPS.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use clap::Args;
use palisade_server::{DecisionLog, Policy, ServerOptions};

use crate::EXIT_CLEAN;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The serving certificate, PEM (with its chain); reloaded when the file changes
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// The certificate's private key, PEM; reloaded with the certificate
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// Address and port to listen on
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// Read this config file instead of looking for `.palisade.yaml` from the working folder up
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no config file
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// When the certificate or key file does not exist, generate a CA and a serving
    /// certificate signed by it and write them there (for a bootstrap or a test cluster;
    /// with several replicas, generate once with --certs-only and share the files)
    #[arg(long)]
    pub self_signed: bool,
    /// With --self-signed: a DNS name or IP address of the serving certificate, repeatable
    /// (default: localhost and 127.0.0.1). For a Service: `NAME.NAMESPACE.svc`
    #[arg(long = "dns-name", value_name = "NAME", requires = "self_signed")]
    pub dns_names: Vec<String>,
    /// With --self-signed: where to write the CA certificate (default: ca.crt beside
    /// --tls-cert); its base64 is the webhook configurations' `caBundle`
    #[arg(long, value_name = "FILE", requires = "self_signed")]
    pub ca_cert_out: Option<PathBuf>,
    /// With --self-signed: write the certificates and exit
    #[arg(long, requires = "self_signed")]
    pub certs_only: bool,
    /// Largest request body accepted; larger ones get HTTP 413
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// A request body that takes longer than this to arrive gets HTTP 408, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub body_timeout: f64,
    /// How often the certificate files are checked for changes, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub tls_reload_interval: f64,
    /// Where the JSON decision lines go: `-` (stdout), a file (appended to) or `off`
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub decision_log: String,
    /// Worker threads (default: one per core)
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

fn load_config(args: &ServeArgs) -> Result<Option<palisade_config::Config>> {
    if args.no_config {
        return Ok(None);
    }
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => std::env::current_dir()
            .ok()
            .and_then(|d| palisade_config::discover(&d)),
    };
    path.map(|p| palisade_config::load(&p).map_err(|e| anyhow::anyhow!("invalid config: {e}")))
        .transpose()
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `--self-signed`: writes a CA and a serving certificate when the files are missing.
fn bootstrap(args: &ServeArgs) -> Result<()> {
    let cert_exists = args.tls_cert.exists();
    let key_exists = args.tls_key.exists();
    if cert_exists && key_exists {
        eprintln!(
            "palisade: {} and {} exist: --self-signed keeps them",
            args.tls_cert.display(),
            args.tls_key.display()
        );
        return Ok(());
    }
    if cert_exists != key_exists {
        bail!(
            "--self-signed: only one of {} and {} exists; remove it or supply both",
            args.tls_cert.display(),
            args.tls_key.display()
        );
    }
    let names = if args.dns_names.is_empty() {
        vec!["localhost".to_owned(), "127.0.0.1".to_owned()]
    } else {
        args.dns_names.clone()
    };
    let certs = palisade_server::tls::self_signed(&names)
        .context("--self-signed: cannot generate the certificates")?;
    let ca_out = args.ca_cert_out.clone().unwrap_or_else(|| {
        args.tls_cert
            .parent()
            .unwrap_or(Path::new("."))
            .join("ca.crt")
    });
    write_private(&args.tls_key, &certs.key)?;
    std::fs::write(&args.tls_cert, format!("{}{}", certs.cert, certs.ca_cert))
        .with_context(|| format!("cannot write {}", args.tls_cert.display()))?;
    std::fs::write(&ca_out, &certs.ca_cert)
        .with_context(|| format!("cannot write {}", ca_out.display()))?;
    eprintln!(
        "palisade: wrote a serving certificate for {} to {} (key {}) and its CA to {}\npalisade: caBundle: {}",
        names.join(", "),
        args.tls_cert.display(),
        args.tls_key.display(),
        ca_out.display(),
        base64::engine::general_purpose::STANDARD.encode(certs.ca_cert.as_bytes())
    );
    Ok(())
}

fn decision_log(target: &str) -> Result<DecisionLog> {
    Ok(match target {
        "off" => DecisionLog::off(),
        "-" => DecisionLog::new(Box::new(std::io::stdout())),
        path => {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("--decision-log: cannot open {path}"))?;
            DecisionLog::new(Box::new(f))
        }
    })
}

pub fn run(args: ServeArgs) -> Result<u8> {
    if args.self_signed {
        bootstrap(&args)?;
        if args.certs_only {
            return Ok(EXIT_CLEAN);
        }
    }
    if !args.tls_reload_interval.is_finite() || args.tls_reload_interval <= 0.0 {
        bail!("--tls-reload-interval must be a positive number of seconds");
    }
    if !args.body_timeout.is_finite() || args.body_timeout <= 0.0 {
        bail!("--body-timeout must be a positive number of seconds");
    }
    let policy = Policy::new(load_config(&args)?).map_err(|e| anyhow::anyhow!(e))?;
    let log = decision_log(&args.decision_log)?;
    let mut options = ServerOptions::new(args.listen, args.tls_cert.clone(), args.tls_key.clone());
    options.max_body_bytes = args.max_body_bytes;
    options.reload_interval = Duration::from_secs_f64(args.tls_reload_interval);
    options.body_timeout = Duration::from_secs_f64(args.body_timeout);
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        runtime.worker_threads(n.max(1));
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let mut running = palisade_server::start(policy, options, log).await?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            r = running.wait() => {
                r.context("the server stopped")?;
                return Ok(EXIT_CLEAN);
            }
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("palisade: shutting down: finishing the requests in progress");
        running.shutdown().await.context("shutting down")?;
        Ok(EXIT_CLEAN)
    })
}
