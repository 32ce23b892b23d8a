//! Portcullis: a security gateway for the Model Context Protocol.
//!
//! One request path, top to bottom: [`edge`] (TLS, HTTP, Streamable HTTP rules) → [`session`]
//! (client sessions, routing, upstream sessions) → [`upstream`] (HTTP and stdio backends), with
//! [`catalog`] merging what backends offer and [`protocol`] owning the message formats. See
//! `ARCHITECTURE.md` at the repository root.
#![forbid(unsafe_code)]

pub mod audit;
pub mod catalog;
pub mod cli;
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
pub mod session;
pub mod telemetry;
pub mod upstream;
pub mod workflow;
