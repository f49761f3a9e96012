//! std conveniences: constnet's format in files.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;

use super::{LoadError, Save, codec};

/// Writes `net` to `path`, replacing it only once the whole file is
/// written: the bytes go to a temporary file beside it, which is then
/// renamed over it.
pub(crate) fn save<N: Save>(net: &N, path: &Path) -> io::Result<()> {
    let bytes = net
        .encode_to_vec()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    write_whole(&bytes, path)
}

/// Writes `bytes` to `path`, replacing it only once they are all written:
/// they go to a temporary file beside it, which is then renamed over it.
pub(crate) fn write_whole(bytes: &[u8], path: &Path) -> io::Result<()> {
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
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Reads a file of network `N` and decodes it with `decode`; a format error
/// becomes an [`io::Error`] of kind `InvalidData` that wraps the
/// [`LoadError`].
///
/// At most [`Save::ENCODED_LEN`] bytes are read: a longer file cannot be
/// one of `N`'s, and is refused from its first bytes (see
/// [`codec::refuse_longer`]), so a huge or endless file costs no more
/// memory than a good one.
pub(crate) fn load<N: Save, T>(
    path: &Path,
    decode: impl FnOnce(&[u8]) -> Result<T, LoadError>,
) -> io::Result<T> {
    let invalid = |e: LoadError| io::Error::new(io::ErrorKind::InvalidData, e);
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let limit = N::ENCODED_LEN as u64;
    let mut bytes = std::vec::Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        bytes.truncate(N::ENCODED_LEN);
        let found = usize::try_from(len).unwrap_or(usize::MAX);
        return Err(invalid(codec::refuse_longer::<N>(&bytes, found)));
    }
    decode(&bytes).map_err(invalid)
}
