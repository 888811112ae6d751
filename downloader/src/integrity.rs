//! Checking a tarball against `dist.integrity` (Subresource Integrity: the strongest
//! algorithm present) or, for old packages, `dist.shasum` (hex sha1).

use base64::Engine;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// What the document promises about the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Sri {
        algorithm: &'static str,
        digests: Vec<Vec<u8>>,
    },
    Sha1(Vec<u8>),
    /// Neither field usable: the tarball cannot be checked.
    Nothing,
}

impl Expected {
    pub fn from_dist(integrity: Option<&str>, shasum: Option<&str>) -> Expected {
        if let Some(sri) = integrity.and_then(parse_sri) {
            return sri;
        }
        match shasum.and_then(|s| hex::decode(s.trim()).ok()).filter(|d| d.len() == 20) {
            Some(d) => Expected::Sha1(d),
            None => Expected::Nothing,
        }
    }

    /// `Err` with the reason when `bytes` do not match.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), String> {
        let (name, actual): (&str, Vec<u8>) = match self {
            Expected::Nothing => return Ok(()),
            Expected::Sha1(_) => ("sha1", Sha1::digest(bytes).to_vec()),
            Expected::Sri { algorithm: "sha512", .. } => ("sha512", Sha512::digest(bytes).to_vec()),
            Expected::Sri { algorithm: "sha384", .. } => ("sha384", Sha384::digest(bytes).to_vec()),
            Expected::Sri { algorithm: "sha256", .. } => ("sha256", Sha256::digest(bytes).to_vec()),
            Expected::Sri { algorithm, .. } => {
                ("sha1", if *algorithm == "sha1" { Sha1::digest(bytes).to_vec() } else { Vec::new() })
            }
        };
        let ok = match self {
            Expected::Sha1(d) => *d == actual,
            Expected::Sri { digests, .. } => digests.contains(&actual),
            Expected::Nothing => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("integrity mismatch: the tarball's {name} is not the one the registry lists"))
        }
    }
}

/// `sha512-… sha1-…`: the strongest algorithm's digests (several are allowed for one).
fn parse_sri(s: &str) -> Option<Expected> {
    let rank = |a: &str| match a {
        "sha512" => Some(4),
        "sha384" => Some(3),
        "sha256" => Some(2),
        "sha1" => Some(1),
        _ => None,
    };
    let mut best: Option<(u8, &'static str, Vec<Vec<u8>>)> = None;
    for token in s.split_whitespace() {
        let Some((alg, b64)) = token.split_once('-') else { continue };
        let Some(r) = rank(alg) else { continue };
        let b64 = b64.split('?').next().unwrap_or(b64);
        let Ok(digest) = base64::engine::general_purpose::STANDARD.decode(b64) else { continue };
        let name: &'static str = match r {
            4 => "sha512",
            3 => "sha384",
            2 => "sha256",
            _ => "sha1",
        };
        match &mut best {
            Some((br, _, ds)) if *br == r => ds.push(digest),
            Some((br, _, _)) if *br > r => {}
            _ => best = Some((r, name, vec![digest])),
        }
    }
    best.map(|(_, algorithm, digests)| Expected::Sri { algorithm, digests })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sri(alg: &str, bytes: &[u8]) -> String {
        let d = match alg {
            "sha512" => Sha512::digest(bytes).to_vec(),
            "sha1" => Sha1::digest(bytes).to_vec(),
            _ => Sha256::digest(bytes).to_vec(),
        };
        format!("{alg}-{}", base64::engine::general_purpose::STANDARD.encode(d))
    }

    #[test]
    fn strongest_algorithm_wins() {
        let data = b"tarball bytes";
        let good = format!("{} {}", sri("sha1", b"other"), sri("sha512", data));
        assert!(Expected::from_dist(Some(&good), None).verify(data).is_ok(), "sha1 is ignored when sha512 is present");
        let bad = format!("{} {}", sri("sha1", data), sri("sha512", b"other"));
        assert!(Expected::from_dist(Some(&bad), None).verify(data).is_err());
    }

    #[test]
    fn shasum_when_no_integrity() {
        let data = b"old package";
        let hexsum = hex::encode(Sha1::digest(data));
        assert!(Expected::from_dist(None, Some(&hexsum)).verify(data).is_ok());
        assert!(Expected::from_dist(Some("garbage"), Some(&hexsum)).verify(b"x").is_err());
        assert_eq!(Expected::from_dist(None, None), Expected::Nothing);
    }
}
