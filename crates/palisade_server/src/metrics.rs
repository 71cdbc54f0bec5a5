//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub endpoint: &'static str,
    /// allowed, denied, would-deny, skipped, failed, or bad-request (no AdmissionReview to
    /// answer with).
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    pub endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub endpoint: &'static str,
    pub outcome: &'static str,
    pub mode: &'static str,
    pub namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    pub rule: &'static str,
    pub severity: &'static str,
    pub namespace: String,
    /// Whether the finding reached the threshold.
    pub blocking: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FixLabels {
    pub rule: &'static str,
    pub namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub duration: Family<EndpointLabels, Histogram>,
    pub decisions: Family<DecisionLabels, Counter>,
    pub findings: Family<FindingLabels, Counter>,
    pub fixes: Family<FixLabels, Counter>,
    pub tls_reloads: Family<ResultLabels, Counter>,
    pub in_flight: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("palisade");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "admission_requests",
            "Admission requests, by endpoint and outcome",
            requests.clone(),
        );
        let duration = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            // 100 µs to ~1.6 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 15))
        });
        registry.register(
            "admission_request_duration_seconds",
            "Time from the request's body being read to the answer being ready",
            duration.clone(),
        );
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "admission_decisions",
            "Decisions, by endpoint, outcome, the namespace's mode and namespace",
            decisions.clone(),
        );
        let findings = Family::<FindingLabels, Counter>::default();
        registry.register(
            "admission_findings",
            "Findings on reviewed objects, by rule, severity and namespace",
            findings.clone(),
        );
        let fixes = Family::<FixLabels, Counter>::default();
        registry.register(
            "admission_fixes",
            "Fixes applied by the mutating webhook, by rule and namespace",
            fixes.clone(),
        );
        let tls_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "tls_reloads",
            "Certificate reloads after the files changed, by result",
            tls_reloads.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "admission_in_flight",
            "Admission requests being reviewed",
            in_flight.clone(),
        );
        Self {
            registry,
            requests,
            duration,
            decisions,
            findings,
            fixes,
            tls_reloads,
            in_flight,
        }
    }

    /// The OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
