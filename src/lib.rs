//! Portcullis: a security gateway for the Model Context Protocol.
//!
//! One request path, top to bottom: [`edge`] (TLS, HTTP, Streamable HTTP rules) → [`identity`]
//! → [`router`] (JSON-RPC dispatch from a per-request context; [`session`] only caches one for
//! 2025-era clients) → [`guard`] (integrity → policy → limits → audit) → [`upstream`] (HTTP and
//! stdio backends, credentials per caller), with [`catalog`] merging what backends offer and
//! [`protocol`] owning the message formats. [`gateway`] assembles it all. See `ARCHITECTURE.md`
//! at the repository root.
#![forbid(unsafe_code)]

pub mod audit;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod edge;
pub mod egress;
pub mod gateway;
pub mod guard;
pub mod identity;
pub mod integrity;
pub mod limits;
pub mod meta;
pub mod policy;
pub mod protocol;
pub mod router;
pub mod session;
pub mod telemetry;
pub mod upstream;
pub mod wordvec;
pub mod workflow;
