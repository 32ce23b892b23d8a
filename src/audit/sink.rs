//! The live file: opened for appending, its identity remembered, reopened when it was deleted
//! or replaced behind the gateway's back, and the directory synced after a rename.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

pub(super) struct FileSink {
    pub(super) path: PathBuf,
    pub(super) file: Option<File>,
    /// Bytes in the live file, tracked by us (only meaningful for regular files).
    pub(super) len: u64,
    /// Only regular files are rotated and repaired (not `/dev/stdout`, FIFOs, …).
    pub(super) regular: bool,
    pub(super) id: Option<FileId>,
    /// The file we were writing was deleted or replaced and not yet reported.
    pub(super) replaced: bool,
}

pub(super) type FileId = (u64, u64);

#[cfg(unix)]
pub(super) fn file_id(m: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
pub(super) fn file_id(_: &std::fs::Metadata) -> Option<FileId> {
    None
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}

impl FileSink {
    pub(super) fn open(path: &Path) -> io::Result<FileSink> {
        let file = open_append(path)?;
        let meta = file.metadata()?;
        Ok(FileSink {
            path: path.to_path_buf(),
            len: meta.len(),
            regular: meta.is_file(),
            id: file_id(&meta),
            file: Some(file),
            replaced: false,
        })
    }

    /// Makes sure `path` still names the file we write to; `Ok(true)` when it had to be reopened
    /// after the file we wrote was deleted or replaced. If it was deleted or replaced (a
    /// removed directory, an operator's `mv`), writing on would put records in a file nobody
    /// can see, so we open `path` anew (which fails if its directory is gone).
    pub(super) fn ensure_open(&mut self) -> io::Result<bool> {
        let stale = match (&self.file, self.id) {
            (None, _) => true,
            (Some(_), Some(id)) => std::fs::metadata(&self.path)
                .map(|m| file_id(&m) != Some(id))
                .unwrap_or(true),
            (Some(_), None) => false,
        };
        if !stale {
            return Ok(false);
        }
        if self.file.take().is_some() {
            self.replaced = true;
        }
        let fresh = FileSink::open(&self.path)?;
        let replaced = self.replaced;
        *self = fresh;
        Ok(replaced)
    }
}

pub(super) fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            tracing::warn!("audit: cannot sync directory `{}`: {e}", dir.display());
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
