//! The peer row of `benches/e2e.rs`: mcp-proxy 0.6.0 from crates.io, a Rust MCP proxy that
//! aggregates backends and namespaces their tools (`<backend>/<tool>`), and nothing more. It is
//! installed by the bench itself, pinned (`cargo install mcp-proxy --version 0.6.0
//! --no-default-features --locked`, into `target/peers/`, once: 18 minutes on this 2-core
//! machine under load), or
//! taken from `PORTCULLIS_E2E_PEER=<binary>`; `PORTCULLIS_E2E_PEER=off` leaves the row out.
//!
//! It has no TLS listener, so its row is plain HTTP on loopback: it pays no handshake and no
//! encryption, which the TLS rows (floor, no checks, gateway) do.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The peer's crate and version, pinned.
pub const CRATE: &str = "mcp-proxy";
pub const VERSION: &str = "0.6.0";
/// The backend's name in the peer's config: its tools are `b/<tool>` there.
pub const BACKEND: &str = "b";

/// The peer's binary, installing it when missing; `None` when the row is switched off.
pub fn binary() -> Option<PathBuf> {
    match std::env::var_os("PORTCULLIS_E2E_PEER") {
        Some(v) if v == "off" => return None,
        Some(v) => return Some(PathBuf::from(v)),
        None => {}
    }
    // target/release/deps/e2e-<hash> → target/peers
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf();
    let root = target.join("peers");
    let bin = root.join("bin").join(CRATE);
    let stamp = root.join(format!("{CRATE}-{VERSION}.installed"));
    if bin.exists() && stamp.exists() {
        return Some(bin);
    }
    eprintln!(
        "e2e: installing the peer, {CRATE} {VERSION} (once, into {})",
        root.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "install",
            CRATE,
            "--version",
            VERSION,
            "--no-default-features",
            "--locked",
        ])
        .arg("--root")
        .arg(&root)
        // Its own build directory: the bench's target dir is locked by this very build.
        .env("CARGO_TARGET_DIR", root.join("build"))
        .status()
        .unwrap();
    assert!(status.success(), "installing {CRATE} {VERSION} failed");
    std::fs::write(&stamp, VERSION).unwrap();
    Some(bin)
}

/// The peer's config: one HTTP backend, listening on `port`.
pub fn config(port: u16, backend_url: &str) -> String {
    format!(
        r#"[proxy]
name = "peer"
separator = "/"

[proxy.listen]
host = "127.0.0.1"
port = {port}

[[backends]]
name = "{BACKEND}"
transport = "http"
url = "{backend_url}"

# Its default logs every request at debug level; the gateway rows log nothing per call either.
[observability]
log_level = "warn"
"#
    )
}
