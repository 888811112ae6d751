//! Timestamps as the registry writes them: `2019-03-04T05:06:07.123Z`, and the
//! `+00:00` spelling with microseconds that some mirrors' dumps carry.

/// 2011-01-01T00:00:00Z, in milliseconds: the earliest creation time generated.
pub const START_MS: i64 = 1_293_840_000_000;
/// 2025-12-31T00:00:00Z: the latest publication time in the dump.
pub const END_MS: i64 = 1_767_139_200_000;
/// 2026-01-01T00:00:00Z: update feed times start here.
pub const UPDATES_MS: i64 = 1_767_225_600_000;

/// How a document spells its times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeStyle {
    /// `2019-03-04T05:06:07.123Z`
    Zulu,
    /// `2019-03-04T05:06:07.123000+00:00`
    Offset,
}

/// Appends `ms` (Unix milliseconds) as an ISO 8601 time in `style`.
pub fn push_time(out: &mut Vec<u8>, ms: i64, style: TimeStyle) {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000) as u32;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u32;
    push_digits(out, y.max(0) as u32, 4);
    out.push(b'-');
    push_digits(out, m, 2);
    out.push(b'-');
    push_digits(out, d, 2);
    out.push(b'T');
    push_digits(out, sod / 3600, 2);
    out.push(b':');
    push_digits(out, sod / 60 % 60, 2);
    out.push(b':');
    push_digits(out, sod % 60, 2);
    out.push(b'.');
    push_digits(out, millis, 3);
    match style {
        TimeStyle::Zulu => out.push(b'Z'),
        TimeStyle::Offset => out.extend_from_slice(b"000+00:00"),
    }
}

/// `YYYYMMDD` of `ms`, as nightly version tags spell dates.
pub fn yyyymmdd(ms: i64) -> u32 {
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    y.max(0) as u32 * 10_000 + m * 100 + d
}

fn push_digits(out: &mut Vec<u8>, n: u32, width: u32) {
    let mut p = 10u32.pow(width - 1);
    while p > 0 {
        out.push(b'0' + (n / p % 10) as u8);
        p /= 10;
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(ms: i64, style: TimeStyle) -> String {
        let mut out = Vec::new();
        push_time(&mut out, ms, style);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(time(0, TimeStyle::Zulu), "1970-01-01T00:00:00.000Z");
        assert_eq!(time(START_MS, TimeStyle::Zulu), "2011-01-01T00:00:00.000Z");
        assert_eq!(time(UPDATES_MS, TimeStyle::Zulu), "2026-01-01T00:00:00.000Z");
        // 2024-02-29T12:34:56.789Z, a leap day
        assert_eq!(time(1_709_210_096_789, TimeStyle::Offset), "2024-02-29T12:34:56.789000+00:00");
        assert_eq!(yyyymmdd(1_709_210_096_789), 20240229);
    }
}
