//! A minimal streaming JSON writer into a byte buffer: documents are written field by
//! field, never built as `serde_json::Value`s, so a 10 MB document costs one buffer.

/// Appends JSON to `buf`. One flag is enough to place commas: it is set after a value and
/// cleared after an opening bracket or a key.
#[derive(Default)]
pub struct Json {
    pub buf: Vec<u8>,
    comma: bool,
}

impl Json {
    pub fn with_capacity(n: usize) -> Json {
        Json { buf: Vec::with_capacity(n), comma: false }
    }

    /// Empties the buffer, keeping its allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.comma = false;
    }

    fn sep(&mut self) {
        if self.comma {
            self.buf.push(b',');
        }
    }

    pub fn open_obj(&mut self) {
        self.sep();
        self.buf.push(b'{');
        self.comma = false;
    }

    pub fn close_obj(&mut self) {
        self.buf.push(b'}');
        self.comma = true;
    }

    pub fn open_arr(&mut self) {
        self.sep();
        self.buf.push(b'[');
        self.comma = false;
    }

    pub fn close_arr(&mut self) {
        self.buf.push(b']');
        self.comma = true;
    }

    pub fn key(&mut self, k: &str) {
        self.sep();
        escape(&mut self.buf, k);
        self.buf.push(b':');
        self.comma = false;
    }

    pub fn str(&mut self, s: &str) {
        self.sep();
        escape(&mut self.buf, s);
        self.comma = true;
    }

    /// A string value made of pieces, written without joining them first.
    pub fn str_parts(&mut self, parts: &[&str]) {
        self.sep();
        self.buf.push(b'"');
        for p in parts {
            escape_inner(&mut self.buf, p);
        }
        self.buf.push(b'"');
        self.comma = true;
    }

    pub fn num(&mut self, n: u64) {
        self.sep();
        push_u64(&mut self.buf, n);
        self.comma = true;
    }

    /// A literal JSON value (`true`, `{}`, a pre-rendered object).
    pub fn raw(&mut self, json: &str) {
        self.sep();
        self.buf.extend_from_slice(json.as_bytes());
        self.comma = true;
    }

    /// The buffer, to write one whole value into by hand (hex, base64, a time).
    pub fn value(&mut self) -> &mut Vec<u8> {
        self.sep();
        self.comma = true;
        &mut self.buf
    }

    /// Pre-rendered JSON: a value, or object fields without braces (then after a field,
    /// before the next).
    pub fn raw_bytes(&mut self, json: &[u8]) {
        if json.is_empty() {
            return;
        }
        self.sep();
        self.buf.extend_from_slice(json);
        self.comma = true;
    }

    pub fn kv_str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.str(v);
    }

    pub fn kv_num(&mut self, k: &str, n: u64) {
        self.key(k);
        self.num(n);
    }
}

/// `s` as a JSON string literal.
pub fn escape(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_inner(out, s);
    out.push(b'"');
}

fn escape_inner(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // copy plain runs whole, finding special bytes eight at a time: this loop is where a
    // generated registry spends most of its time
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        while let Some(word) = bytes.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            if has_special(u64::from_le_bytes(w)) {
                break;
            }
            i += 8;
        }
        let end = (i + 8).min(bytes.len());
        while i < end {
            let b = bytes[i];
            if b < 0x20 || b == b'"' || b == b'\\' {
                out.extend_from_slice(&bytes[start..i]);
                start = i + 1;
                escape_byte(out, b);
            }
            i += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether any byte of `w` is a control character, `"` or `\` (SWAR: the high bit of a
/// byte lane is set when that lane borrows below the threshold).
fn has_special(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let control = below(w, 0x20);
    let quote = below(w ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(w ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash != 0
}

fn escape_byte(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        c => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 15)]);
        }
    }
}

/// Decimal digits of `n`, without going through `fmt`.
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Lowercase hex of `bytes`.
pub fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// Standard base64 (with padding) of `bytes`.
pub fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ABC[(n >> 18) as usize & 63]);
        out.push(ABC[(n >> 12) as usize & 63]);
        out.push(if chunk.len() > 1 { ABC[(n >> 6) as usize & 63] } else { b'=' });
        out.push(if chunk.len() > 2 { ABC[n as usize & 63] } else { b'=' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_and_nesting() {
        let mut j = Json::default();
        j.open_obj();
        j.kv_str("a", "x\"y\n");
        j.key("b");
        j.open_arr();
        j.num(1);
        j.num(20);
        j.open_obj();
        j.close_obj();
        j.close_arr();
        j.key("c");
        j.str_parts(&["p", "\\", "q"]);
        j.close_obj();
        let text = String::from_utf8(j.buf).expect("utf8");
        assert_eq!(text, r#"{"a":"x\"y\n","b":[1,20,{}],"c":"p\\q"}"#);
        let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(v["a"], "x\"y\n");
    }

    #[test]
    fn escapes_match_serde_json() {
        let samples = [
            "plain ascii text that is longer than eight bytes",
            "a\"b\\c\nd\re\tf\u{1}g",
            "# title\n\n```js\nconst x = \"y\";\n```\n",
            "unicode é ü 漢字 and \u{7f} del",
            "",
            "\"",
            "12345678\n12345678\"1234567\\",
        ];
        for s in samples {
            let mut out = Vec::new();
            escape(&mut out, s);
            let back: String = serde_json::from_slice(&out).expect("valid string");
            assert_eq!(back, s);
        }
        for b in 0u8..=127 {
            let w = u64::from_le_bytes([b'a', b'b', b'c', b, b'd', b'e', b'f', b'g']);
            assert_eq!(has_special(w), b < 0x20 || b == b'"' || b == b'\\', "{b}");
        }
    }

    #[test]
    fn numbers_hex_base64() {
        let mut out = Vec::new();
        push_u64(&mut out, 0);
        out.push(b' ');
        push_u64(&mut out, u64::MAX);
        out.push(b' ');
        push_hex(&mut out, &[0, 0xab, 0xff]);
        out.push(b' ');
        push_base64(&mut out, b"hello");
        assert_eq!(String::from_utf8(out).expect("utf8"), "0 18446744073709551615 00abff aGVsbG8=");
    }
}
