//! String formats kube-openapi checks for CRDs (`kube-openapi/pkg/validation/strfmt/default.go`
//! as restricted by apiextensions' `supportedFormats` in `apiserver/validation/formats.go`).
//!
//! Entry point: [`is_valid`]. Formats are matched after removing dashes (`date-time` is
//! `datetime`), as strfmt's name normalizer does.
//!
//! NOTE: `isbn`, `isbn10`, `isbn13`, `creditcard`, `ssn`, `rgbcolor` and `password` accept any
//! string here (upstream checks the first six with regular expressions); `uri` and `email` use
//! a looser check than Go's `net/url` and `net/mail`.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether `data` is a valid value of `format`. Unknown formats accept everything.
pub fn is_valid(format: &str, data: &str) -> bool {
    match format.replace('-', "").to_ascii_lowercase().as_str() {
        "datetime" => is_date_time(data),
        "date" => is_date(data),
        "byte" => is_base64(data),
        "uuid" => is_uuid(data, None),
        "uuid3" => is_uuid(data, Some('3')),
        "uuid4" => is_uuid(data, Some('4')),
        "uuid5" => is_uuid(data, Some('5')),
        "ipv4" => is_ipv4(data),
        "ipv6" => data.parse::<Ipv6Addr>().is_ok(),
        "cidr" => is_cidr(data),
        "hostname" => is_hostname(data),
        "mac" => is_mac(data),
        "hexcolor" => is_hex_color(data),
        "bsonobjectid" => data.len() == 24 && data.bytes().all(|b| b.is_ascii_hexdigit()),
        "duration" => is_duration(data),
        "uri" => is_uri(data),
        "email" => is_email(data),
        _ => true,
    }
}

/// strfmt `ParseDateTime`: RFC 3339 with optional fractional seconds.
fn is_date_time(s: &str) -> bool {
    s.parse::<jiff::Timestamp>().is_ok()
        && s.len() >= 20
        && s.as_bytes()
            .get(10)
            .is_some_and(|c| matches!(c, b'T' | b't'))
}

/// `2006-01-02`.
fn is_date(s: &str) -> bool {
    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok()
}

/// Standard base64 with padding (Go's `base64.StdEncoding`).
fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let body = s.trim_end_matches('=');
    if b.len() - body.len() > 2 {
        return false;
    }
    body.bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

/// `(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?V[0-9a-f]{3}-?[89ab]?[0-9a-f]{3}-?[0-9a-f]{12}$`.
fn is_uuid(s: &str, version: Option<char>) -> bool {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let dashes = s.len() - hex.len();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return false;
    }
    if dashes != 0 && dashes != 4 {
        return false;
    }
    if dashes == 4 {
        let groups: Vec<usize> = s.split('-').map(str::len).collect();
        if groups != [8, 4, 4, 4, 12] {
            return false;
        }
    }
    match version {
        None => true,
        Some(v) => {
            let h = hex.to_ascii_lowercase();
            let variant_ok = v == '3' || matches!(h.as_bytes()[16], b'8' | b'9' | b'a' | b'b');
            h.as_bytes()[12] == v as u8 && variant_ok
        }
    }
}

/// Go's `net.ParseIP(s).To4() != nil` after strfmt's regex: dotted quad.
fn is_ipv4(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok()
}

/// `net.ParseCIDR`.
fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    if ip.parse::<Ipv4Addr>().is_ok() {
        bits <= 32
    } else if ip.parse::<Ipv6Addr>().is_ok() {
        bits <= 128
    } else {
        false
    }
}

/// strfmt `IsHostname`: at most 255 bytes, dot-separated labels of 1 to 63 alphanumerics or
/// dashes (also underscores), not starting or ending with a dash.
fn is_hostname(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    s.trim_end_matches('.').split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    })
}

/// `net.ParseMAC`: 6, 8 or 20 octets separated by `:` or `-`, or dotted groups of four.
fn is_mac(s: &str) -> bool {
    for sep in [':', '-'] {
        let parts: Vec<&str> = s.split(sep).collect();
        if matches!(parts.len(), 6 | 8 | 20)
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return true;
        }
    }
    let parts: Vec<&str> = s.split('.').collect();
    matches!(parts.len(), 3 | 4 | 10)
        && parts
            .iter()
            .all(|p| p.len() == 4 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`.
fn is_hex_color(s: &str) -> bool {
    let h = s.strip_prefix('#').unwrap_or(s);
    matches!(h.len(), 3 | 6) && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// strfmt `ParseDuration`: Go's `time.ParseDuration` (`1h30m`, `-1.5s`) or the
/// `<number> <unit>` form (`3 days`, `10 ms`).
fn is_duration(s: &str) -> bool {
    is_go_duration(s) || is_scala_duration(s)
}

fn is_go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 || rest[..num_len] == *"." {
            return false;
        }
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return false;
        }
        rest = &rest[unit_len..];
    }
    true
}

fn is_scala_duration(s: &str) -> bool {
    let t = s.trim();
    let num_len = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if num_len == 0 {
        return false;
    }
    let unit = t[num_len..].trim();
    matches!(
        unit,
        "ns" | "nano"
            | "nanos"
            | "nanosecond"
            | "nanoseconds"
            | "us"
            | "micro"
            | "micros"
            | "microsecond"
            | "microseconds"
            | "ms"
            | "milli"
            | "millis"
            | "millisecond"
            | "milliseconds"
            | "s"
            | "sec"
            | "secs"
            | "second"
            | "seconds"
            | "m"
            | "min"
            | "mins"
            | "minute"
            | "minutes"
            | "h"
            | "hr"
            | "hrs"
            | "hour"
            | "hours"
            | "d"
            | "day"
            | "days"
            | "w"
            | "wk"
            | "wks"
            | "week"
            | "weeks"
    )
}

/// `url.ParseRequestURI`: an absolute URI (`scheme:…`) or an absolute path.
fn is_uri(s: &str) -> bool {
    if s.starts_with('/') {
        return !s.contains(' ');
    }
    match s.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme.as_bytes()[0].is_ascii_alphabetic()
                && scheme
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
                && !s.contains(' ')
        }
        None => false,
    }
}

/// `mail.ParseAddress`, loosely: `local@domain` with no spaces.
fn is_email(s: &str) -> bool {
    let addr = match (s.rfind('<'), s.ends_with('>')) {
        (Some(i), true) => &s[i + 1..s.len() - 1],
        _ => s,
    };
    match addr.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !addr.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn formats_accept_and_refuse() {
        let cases = [
            ("date-time", "2024-01-02T03:04:05Z", true),
            ("date-time", "2024-01-02T03:04:05.123+02:00", true),
            ("date-time", "yesterday", false),
            ("date", "2024-02-29", true),
            ("date", "2023-02-29", false),
            ("byte", "aGVsbG8=", true),
            ("byte", "hello!", false),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", true),
            ("uuid", "123e4567", false),
            ("uuid4", "123e4567-e89b-42d3-a456-426614174000", true),
            ("uuid4", "123e4567-e89b-12d3-a456-426614174000", false),
            ("ipv4", "10.0.0.1", true),
            ("ipv4", "10.0.0.256", false),
            ("ipv6", "::1", true),
            ("cidr", "10.0.0.0/8", true),
            ("cidr", "10.0.0.0/33", false),
            ("hostname", "example.com", true),
            ("hostname", "-bad-.com", false),
            ("mac", "01:23:45:67:89:ab", true),
            ("mac", "01:23:45", false),
            ("duration", "1h30m", true),
            ("duration", "3 days", true),
            ("duration", "soon", false),
            ("hexcolor", "#fff", true),
            ("hexcolor", "#ffff", false),
            ("int32", "anything", true),
        ];
        for (format, data, ok) in cases {
            assert_eq!(is_valid(format, data), ok, "{format} {data:?}");
        }
    }
}
