//! `portcullis dev-cert`: a self-signed certificate and key for development (never for
//! production). The key is written readable by its owner only (0600), by a rename over any key
//! already there, so it is never briefly readable by others.

use std::io::Write as _;
use std::path::Path;

use super::CliError;

pub(super) fn run(out: &Path, names: &[String]) -> Result<(), CliError> {
    let (cert, key) = crate::edge::tls::dev_certificate(names)?;
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| CliError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(out).map_err(io("create", out))?;
    let cert_path = out.join("dev.crt");
    let key_path = out.join("dev.key");
    std::fs::write(&cert_path, cert).map_err(io("write", &cert_path))?;
    write_private(&key_path, key.as_bytes()).map_err(io("write", &key_path))?;
    println!(
        "wrote {} and {} (self-signed, DEV ONLY)",
        cert_path.display(),
        key_path.display()
    );
    Ok(())
}

/// Writes `bytes` to `path` with mode 0600: a new file created 0600 in the same directory, then
/// renamed over `path` (a key already there keeps none of its old permissions).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only_even_over_an_open_one() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::write_private(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
