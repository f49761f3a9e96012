//! std conveniences: constnet's format in files.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use super::Save;

/// Writes `net` to `path`, replacing it only once the whole file is
/// written: the bytes go to a temporary file beside it, which is then
/// renamed over it.
pub(crate) fn save<N: Save>(net: &N, path: &Path) -> io::Result<()> {
    let bytes = net
        .encode_to_vec()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path to save a network to has no file name",
        ));
    };
    let mut temporary = OsString::from(".");
    temporary.push(name);
    temporary.push(std::format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary);
    let written = File::create(&temporary)
        .and_then(|mut file| {
            file.write_all(&bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Reads a file and decodes it with `decode`; a format error becomes an
/// [`io::Error`] of kind `InvalidData` that wraps the
/// [`LoadError`](super::LoadError).
pub(crate) fn load<T>(
    path: &Path,
    decode: impl FnOnce(&[u8]) -> Result<T, super::LoadError>,
) -> io::Result<T> {
    let bytes = fs::read(path)?;
    decode(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
