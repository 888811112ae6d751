//! The limits one tarball is held to, and how their sizes read in messages.

/// How much of a tarball is read and kept. A tarball over a cap is read up to it, not
/// rejected: what fits is kept and [`super::Outcome::capped`] says which cap stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caps {
    /// Bytes of entry data read, all entries together (what a gzip bomb inflates to).
    pub max_unpacked: u64,
    /// Tar members read, directories and skipped ones included.
    pub max_entries: u64,
    /// Bytes of a path inside the package (after the top directory is stripped).
    pub max_path_len: usize,
    /// Components of a path inside the package.
    pub max_depth: usize,
    /// Files up to this size are handed over with their bytes; larger ones only with their
    /// size and sha256.
    pub max_stored_file: u64,
}

impl Default for Caps {
    /// Far above any real package (the largest on npm unpack to a few hundred MB), far
    /// below what would hurt a worker.
    fn default() -> Self {
        Caps {
            max_unpacked: 1 << 30,
            max_entries: 100_000,
            max_path_len: 1024,
            max_depth: 64,
            max_stored_file: 4 << 20,
        }
    }
}

impl Caps {
    pub(super) fn unpacked_message(&self) -> String {
        format!("over the {} unpacked-size cap", size_text(self.max_unpacked))
    }

    pub(super) fn entries_message(&self) -> String {
        format!("over the {}-entry cap", self.max_entries)
    }
}

/// `1 GiB`, `4 MiB`, `1536 bytes`: exact, since caps are usually round numbers.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_exactly() {
        assert_eq!(size_text(1 << 30), "1 GiB");
        assert_eq!(size_text(4 << 20), "4 MiB");
        assert_eq!(size_text(1536), "1536 bytes");
        assert_eq!(size_text(0), "0 bytes");
        assert_eq!(Caps::default().unpacked_message(), "over the 1 GiB unpacked-size cap");
        assert_eq!(Caps::default().entries_message(), "over the 100000-entry cap");
    }
}
