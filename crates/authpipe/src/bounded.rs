//! Reading files and streams with a size cap, so that `/dev/zero` or a huge
//! file fails at once instead of filling memory.

use std::io::Read;
use std::path::Path;

/// A read that stopped at its cap, or failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// More than `limit` bytes were available.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge {
        /// What was read ("the source", "the input").
        what: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The read itself failed.
    #[error("cannot read {what}: {source}")]
    Io {
        /// What was read.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Reads all of `reader`, failing as soon as it yields more than `limit`
/// bytes. `what` names it in errors.
pub fn read_capped(reader: impl Read, limit: usize, what: &str) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            what: what.to_string(),
            source,
        })?;
    if bytes.len() > limit {
        return Err(ReadError::TooLarge {
            what: what.to_string(),
            limit,
        });
    }
    Ok(bytes)
}

/// Reads the file at `path` with [`read_capped`]; errors name the path.
pub fn read_file_capped(path: &Path, limit: usize) -> Result<Vec<u8>, ReadError> {
    let what = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
        what: what.clone(),
        source,
    })?;
    read_capped(file, limit, &what)
}

/// Reads a UTF-8 function source of at most [`crate::MAX_SOURCE_BYTES`].
pub fn read_source_file(path: &Path) -> Result<String, ReadError> {
    let bytes = read_file_capped(path, crate::MAX_SOURCE_BYTES)?;
    String::from_utf8(bytes).map_err(|_| ReadError::Io {
        what: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_cap() {
        assert_eq!(read_capped(&b"abc"[..], 3, "x").unwrap(), b"abc");
        let err = read_capped(std::io::repeat(0), 1024, "the input").unwrap_err();
        assert_eq!(err.to_string(), "the input is larger than 1024 bytes");
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_is_refused_quickly() {
        let err = read_source_file(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    }
}
