//! Typed condition values: exact decimals, timestamps, IP ranges and base64 bytes, parsed the
//! way IAM reads them in policies and in requests.

use std::cmp::Ordering;
use std::fmt;

use ipnet::IpNet;
use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{take_while_m_n, take_while1};
use nom::character::complete::{char as nom_char, one_of};
use nom::combinator::{all_consuming, opt};
use nom::sequence::preceded;

/// An exact decimal number, as written in `Numeric*` conditions. Comparison is exact: no
/// binary floating point is involved, so `0.1` equals `0.10` and large integers stay exact.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    negative: bool,
    /// Integer digits without leading zeros (empty for zero).
    int: Box<str>,
    /// Fraction digits without trailing zeros.
    frac: Box<str>,
}

impl Decimal {
    /// Parses `[+-]digits[.digits]` (either side of the point may be empty, not both).
    pub fn parse(text: &str) -> Option<Decimal> {
        let view = DecimalView::parse(text)?;
        Some(Decimal { negative: view.negative, int: view.int.into(), frac: view.frac.into() })
    }

    fn view(&self) -> DecimalView<'_> {
        DecimalView { negative: self.negative, int: &self.int, frac: &self.frac }
    }

    /// Compares the number written in `text` with `self` (`text` on the left), without
    /// allocating; `None` when `text` is not a decimal number.
    pub fn compare_text(&self, text: &str) -> Option<Ordering> {
        Some(DecimalView::parse(text)?.cmp_signed(&self.view()))
    }
}

/// A decimal borrowed from text, for comparisons that must not allocate.
struct DecimalView<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
}

impl<'a> DecimalView<'a> {
    fn parse(text: &'a str) -> Option<DecimalView<'a>> {
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, text.get(1..)?),
            Some(b'+') => (false, text.get(1..)?),
            _ => (false, text),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let negative = negative && !(int.is_empty() && frac.is_empty());
        Some(DecimalView { negative, int, frac })
    }

    fn cmp_magnitude(&self, other: &DecimalView<'_>) -> Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(other.int))
            .then_with(|| self.frac.cmp(other.frac))
    }

    fn cmp_signed(&self, other: &DecimalView<'_>) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        self.view().cmp_signed(&other.view())
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self})")
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(if self.int.is_empty() { "0" } else { &self.int })?;
        if !self.frac.is_empty() {
            write!(f, ".{}", self.frac)?;
        }
        Ok(())
    }
}

/// A point in time: seconds since 1970-01-01T00:00:00Z and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds since the Unix epoch (negative before it).
    pub seconds: i64,
    /// Nanoseconds within the second, 0 to 999,999,999.
    pub nanos: u32,
}

impl Timestamp {
    /// Parses what IAM accepts in `Date*` conditions and in date-typed request values:
    /// epoch seconds (`1700000000`, `-5`), or ISO 8601 in the W3C profile and the looser forms
    /// IAM also takes: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then optionally `T` (either case), a time
    /// `h[h][:mm[:ss[.fraction]]]` with up to nine fraction digits, and a zone `Z`, `±hh`,
    /// `±hhmm` or `±hh:mm`. A date without a zone is UTC.
    pub fn parse(text: &str) -> Option<Timestamp> {
        if let Ok(seconds) = text.parse::<i64>() {
            return Some(Timestamp { seconds, nanos: 0 });
        }
        parse_iso(text)
    }

    /// The timestamp as seconds since the epoch with a fraction, for numeric comparisons.
    pub fn epoch_seconds(&self) -> i64 {
        self.seconds
    }
}

impl fmt::Display for Timestamp {
    /// Formats as `YYYY-MM-DDThh:mm:ssZ` (with a fraction when there is one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

fn digits(min: usize, max: usize) -> impl FnMut(&str) -> nom::IResult<&str, &str> {
    move |i| take_while_m_n(min, max, |c: char| c.is_ascii_digit()).parse(i)
}

type Iso<'a> = (&'a str, Option<(&'a str, Option<&'a str>)>, Option<(char, Option<TimePart<'a>>, Option<Zone<'a>>)>);
type TimePart<'a> = (&'a str, Option<(&'a str, Option<(&'a str, Option<&'a str>)>)>);
type Zone<'a> = Option<(char, &'a str, Option<&'a str>)>;

fn parse_iso(text: &str) -> Option<Timestamp> {
    let frac = preceded(nom_char('.'), take_while1(|c: char| c.is_ascii_digit()));
    let seconds = (preceded(nom_char(':'), digits(2, 2)), opt(frac));
    let minutes = (preceded(nom_char(':'), digits(2, 2)), opt(seconds));
    let time = (digits(1, 2), opt(minutes));
    let offset = (one_of("+-"), digits(2, 2), opt(preceded(opt(nom_char(':')), digits(2, 2))));
    let zone = alt((nom::combinator::map(one_of("Zz"), |_| None), nom::combinator::map(offset, Some)));
    let date = (
        digits(1, 9),
        opt((preceded(nom_char('-'), digits(2, 2)), opt(preceded(nom_char('-'), digits(2, 2))))),
        opt((one_of("Tt"), opt(time), opt(zone))),
    );
    let (_, parsed): (_, Iso<'_>) = all_consuming(date).parse(text).ok()?;
    let (year, month_day, time_zone) = parsed;
    let year: i64 = year.parse().ok()?;
    let (month, day) = match month_day {
        None => (1, 1),
        Some((m, None)) => (m.parse().ok()?, 1),
        Some((m, Some(d))) => (m.parse().ok()?, d.parse().ok()?),
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut nanos, mut offset_minutes) = (0i64, 0i64, 0i64, 0u32, 0i64);
    if let Some((_, time, zone)) = time_zone {
        if let Some((h, rest)) = time {
            hour = h.parse().ok()?;
            if let Some((m, rest)) = rest {
                minute = m.parse().ok()?;
                if let Some((s, frac)) = rest {
                    second = s.parse().ok()?;
                    if let Some(frac) = frac {
                        if frac.len() > 9 {
                            return None;
                        }
                        let scaled = format!("{frac:0<9}");
                        nanos = scaled.parse().ok()?;
                    }
                }
            }
        }
        if let Some(Some((sign, hh, mm))) = zone {
            let hh: i64 = hh.parse().ok()?;
            let mm: i64 = mm.map_or(Some(0), |m| m.parse().ok())?;
            if hh > 23 || mm > 59 {
                return None;
            }
            offset_minutes = (hh * 60 + mm) * if sign == '-' { -1 } else { 1 };
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds =
        days.checked_mul(86_400)?.checked_add(hour * 3600 + minute * 60 + second)?.checked_sub(offset_minutes * 60)?;
    Some(Timestamp { seconds, nanos })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses an IP address or CIDR range as `IpAddress` conditions take it; an address without a
/// prefix length is a single-address range (`/32` or `/128`).
pub fn parse_ip(text: &str) -> Option<IpNet> {
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net);
    }
    text.parse::<std::net::IpAddr>().ok().map(IpNet::from)
}

/// Decodes standard base64 (RFC 4648 alphabet, `=` padding optional), as `BinaryEquals` takes.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for b in body.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    // A single leftover base64 digit cannot encode a byte.
    if body.len() % 4 == 1 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn decimals_compare_exactly() {
        assert_eq!(d("0.1"), d("0.10"));
        assert_eq!(d("007"), d("7"));
        assert_eq!(d("-0"), d("0"));
        assert!(d("10") > d("9.999"));
        assert!(d("-10") < d("-9"));
        assert!(d("12345678901234567890123") > d("12345678901234567890122"));
        assert!(d(".5") == d("0.5"));
        assert!(d("5.") == d("5"));
        for bad in ["", "-", ".", "1e3", "abc", "1.2.3", "--1"] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(d("-000.500").to_string(), "-0.5");
        assert_eq!(d("10").compare_text("9.5"), Some(Ordering::Less));
        assert_eq!(d("-2").compare_text("-10"), Some(Ordering::Less));
        assert_eq!(d("0.10").compare_text("+0.1"), Some(Ordering::Equal));
        assert_eq!(d("1").compare_text("x"), None);
    }

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn dates_iam_accepts() {
        assert_eq!(ts("2017-07-01T00:00:00Z").to_string(), "2017-07-01T00:00:00Z");
        assert_eq!(ts("1970-01-01T00:00:00Z").seconds, 0);
        assert_eq!(ts("1700000000").seconds, 1_700_000_000);
        assert_eq!(ts("-292275054").seconds, -292_275_054);
        assert_eq!(ts("2016-12-13T21:20:37.593194+00:00").nanos, 593_194_000);
        assert_eq!(ts("2016-12-13t2:00:00.593194+23").to_string(), "2016-12-12T03:00:00.593194Z");
        assert_eq!(ts("2020-01-01T01:00:00+0100").to_string(), "2020-01-01T00:00:00Z");
        assert_eq!(ts("2020-02").to_string(), "2020-02-01T00:00:00Z");
        assert_eq!(ts("2020-02-29").to_string(), "2020-02-29T00:00:00Z");
        assert_eq!(ts("2020-02-29T10:30Z").to_string(), "2020-02-29T10:30:00Z");
        ts("01T");
    }

    #[test]
    fn dates_iam_rejects() {
        for bad in [
            "sdfdsf",
            "234-13",
            "2016-12-13t2:00:00.593194+1",
            "2016-12-13t2:00:00.1999999999+10:59",
            "9223372036854775808",
            "2019-02-29",
            "2020-01-01T24:00:00Z",
            "2020-01-01 00:00:00",
            "",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad} should be rejected");
        }
    }

    #[test]
    fn ips() {
        assert_eq!(parse_ip("203.0.113.7").unwrap().to_string(), "203.0.113.7/32");
        assert_eq!(parse_ip("203.0.113.0/24").unwrap().to_string(), "203.0.113.0/24");
        assert_eq!(parse_ip("2001:DB8:1234:5678::/64").unwrap().to_string(), "2001:db8:1234:5678::/64");
        assert!(parse_ip("203.0.113.0/33").is_none());
        assert!(parse_ip("not-an-ip").is_none());
    }

    #[test]
    fn base64() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert!(decode_base64("a").is_none());
        assert!(decode_base64("a$==").is_none());
        assert!(decode_base64("QQ===").is_none());
    }
}
