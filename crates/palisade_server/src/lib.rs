//! `palisade serve`: a validating and mutating admission webhook built on the scan engine.
//!
//! * [`review`] decodes AdmissionReview requests (totally: any bytes give a request or a
//!   clear error) and encodes the answers.
//! * [`policy`] decides: the rules and configuration of `palisade scan` run on the object,
//!   findings at or above the threshold deny in enforced namespaces, the rest are warnings;
//!   the mutating side lowers the allowed fixes to a JSON Patch that only fills in what the
//!   request leaves out (unless `serve.overwrite` is set).
//! * [`server`] serves it over HTTPS (rustls, ring) with certificate reload, Prometheus
//!   metrics, a JSON decision log, a body size limit and graceful shutdown.

pub mod log;
pub mod metrics;
pub mod policy;
pub mod review;
pub mod server;
pub mod tls;

pub use log::DecisionLog;
pub use policy::{Decision, Endpoint, Outcome, Policy};
pub use server::{Running, ServerError, ServerOptions, start};
