//! Tar member names → paths inside the package, by npm's rules (pacote extracts with
//! node-tar's `strip: 1`), and the names we refuse.
//!
//! npm drops the first path component whatever it is (`package/`, `node-compress/`, `./`),
//! resolves `.` and empty components, and drops an entry left with no path: a file at the
//! tarball's root is not installed. Stricter than node-tar, which checks only what follows
//! the first component, any `..` component and any absolute name skip the entry.

use super::Caps;

/// A path inside the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PackagePath {
    pub path: String,
    /// The name was not UTF-8: invalid bytes became U+FFFD, as Node decodes tar headers.
    pub lossy: bool,
}

/// Why a name has no place in the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    Empty,
    Nul,
    Absolute,
    DotDot,
    /// Nothing is left once the top directory is stripped.
    AtRoot,
    TooDeep {
        depth: usize,
        max: usize,
    },
    TooLong {
        len: usize,
        max: usize,
    },
}

impl Refusal {
    /// For [`super::Outcome::skipped`].
    pub fn why(&self) -> String {
        match self {
            Refusal::Empty => "empty name".into(),
            Refusal::Nul => "NUL byte in the name".into(),
            Refusal::Absolute => "absolute path".into(),
            Refusal::DotDot => "`..` in the path".into(),
            Refusal::AtRoot => "at the tarball root, outside any top directory (npm drops it)".into(),
            Refusal::TooDeep { depth, max } => format!("{depth} levels deep, over the {max}-level cap"),
            Refusal::TooLong { len, max } => format!("path of {len} bytes, over the {max}-byte cap"),
        }
    }
}

/// The package path of the tar member named `raw`.
pub(super) fn package_path(raw: &[u8], caps: &Caps) -> Result<PackagePath, Refusal> {
    if raw.is_empty() {
        return Err(Refusal::Empty);
    }
    if raw.contains(&0) {
        return Err(Refusal::Nul);
    }
    if raw.starts_with(b"/") || is_windows_absolute(raw) {
        return Err(Refusal::Absolute);
    }
    let mut parts = raw.split(|&b| b == b'/');
    if parts.clone().any(|p| p == b"..") {
        return Err(Refusal::DotDot);
    }
    parts.next(); // the top directory, whatever its name
    let kept: Vec<&[u8]> = parts.filter(|p| !p.is_empty() && *p != b".").collect();
    if kept.is_empty() {
        return Err(Refusal::AtRoot);
    }
    if kept.len() > caps.max_depth {
        return Err(Refusal::TooDeep { depth: kept.len(), max: caps.max_depth });
    }
    let joined = kept.join(&b'/');
    let (path, lossy) = match String::from_utf8(joined) {
        Ok(path) => (path, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    if path.len() > caps.max_path_len {
        return Err(Refusal::TooLong { len: path.len(), max: caps.max_path_len });
    }
    Ok(PackagePath { path, lossy })
}

/// A hard link's target is a member name too: npm strips it the same way. A target that
/// cannot be stripped is kept as written (it is only recorded).
pub(super) fn link_target(raw: &[u8], caps: &Caps) -> String {
    match package_path(raw, caps) {
        Ok(p) => p.path,
        Err(_) => shown(raw),
    }
}

/// `C:\…`, `C:/…`, `\\server\…`: absolute on Windows, where npm also installs.
fn is_windows_absolute(raw: &[u8]) -> bool {
    raw.starts_with(b"\\") || (raw.len() >= 2 && raw[0].is_ascii_alphabetic() && raw[1] == b':')
}

/// A name as it can be shown in a message or a list: lossy text, control characters
/// escaped, cut to 512 bytes.
pub(super) fn shown(raw: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(raw).chars().flat_map(char::escape_debug).collect();
    if text.len() <= 512 {
        return text;
    }
    let mut end = 512;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(raw: &[u8]) -> Result<String, Refusal> {
        package_path(raw, &Caps::default()).map(|p| p.path)
    }

    #[test]
    fn strips_the_top_directory_whatever_it_is() {
        assert_eq!(path(b"package/lib/a.js").as_deref(), Ok("lib/a.js"));
        assert_eq!(path(b"node-compress/a.js").as_deref(), Ok("a.js"));
        assert_eq!(path(b"./a.js").as_deref(), Ok("a.js"));
        // `tar czf x.tgz ./`: npm keeps the second component
        assert_eq!(path(b"./package/a.js").as_deref(), Ok("package/a.js"));
        assert_eq!(path(b"package//lib/./a.js").as_deref(), Ok("lib/a.js"));
    }

    #[test]
    fn refuses_what_npm_would_not_install_or_could_escape() {
        assert_eq!(path(b""), Err(Refusal::Empty));
        assert_eq!(path(b"package.json"), Err(Refusal::AtRoot));
        assert_eq!(path(b"package/"), Err(Refusal::AtRoot));
        assert_eq!(path(b"package/../../etc/passwd"), Err(Refusal::DotDot));
        assert_eq!(path(b"../x.js"), Err(Refusal::DotDot));
        assert_eq!(path(b"/etc/passwd"), Err(Refusal::Absolute));
        assert_eq!(path(b"C:/x/y"), Err(Refusal::Absolute));
        assert_eq!(path(b"\\\\server\\x"), Err(Refusal::Absolute));
        assert_eq!(path(b"package/a\0b"), Err(Refusal::Nul));
    }

    #[test]
    fn caps_depth_and_length() {
        let caps = Caps { max_depth: 3, max_path_len: 10, ..Caps::default() };
        assert_eq!(package_path(b"p/a/b/c", &caps).map(|p| p.path).as_deref(), Ok("a/b/c"));
        assert_eq!(package_path(b"p/a/b/c/d", &caps), Err(Refusal::TooDeep { depth: 4, max: 3 }));
        assert_eq!(package_path(b"p/abcdefghijk", &caps), Err(Refusal::TooLong { len: 11, max: 10 }));
    }

    #[test]
    fn non_utf8_names_are_converted_lossily() {
        let p = package_path(b"package/caf\xe9.js", &Caps::default()).expect("kept");
        assert_eq!(p, PackagePath { path: "caf\u{FFFD}.js".into(), lossy: true });
    }

    #[test]
    fn shown_names_escape_control_characters() {
        assert_eq!(shown(b"a\nb\0"), "a\\nb\\0");
        assert!(shown(&[b'x'; 2000]).ends_with('…'));
    }
}
