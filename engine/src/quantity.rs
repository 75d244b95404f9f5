//! Kubernetes resource quantities (`500m`, `1.5`, `64Mi`, `1e3`) as integer milli-units. See
//! [`milli_value`] and [`format_milli`].
//!
//! Mirrors `k8s.io/apimachinery/pkg/api/resource/quantity.go`: `ParseQuantity` for the grammar,
//! `Quantity.MilliValue` (the value × 1000, rounded up) for the number the HPA controller reads,
//! and `NewMilliQuantity(v, DecimalSI).String()` for the canonical form it writes into
//! `status.currentMetrics`.

/// Why a quantity string could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `resource.ErrFormatWrong`.
    #[error(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )]
    Format,
    /// `resource.ErrNumeric`: the value does not fit.
    #[error("unable to parse quantity's suffix")]
    Suffix,
    #[error("quantity {0:?} is too large")]
    TooLarge(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The value of a quantity in milli-units, rounded up (away from zero for positive values) as
/// `MilliValue` does: `"500m"` → 500, `"1.5"` → 1500, `"64Mi"` → 67,108,864,000, `"1n"` → 1.
///
/// # Errors
///
/// [`Error::Format`] when the string is not a quantity, [`Error::Suffix`] for an unknown
/// suffix, [`Error::TooLarge`] when the milli-value does not fit in an `i64`.
pub fn milli_value(s: &str) -> Result<i64> {
    let s = s.trim();
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(Error::Format);
    }
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    // The value is digits × 10^exp10 × 2^exp2, then × 1000 for milli-units.
    let (exp10, exp2): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        other => {
            let exp = other
                .strip_prefix(['e', 'E'])
                .ok_or(Error::Suffix)?
                .parse::<i32>()
                .map_err(|_| Error::Format)?;
            (exp, 0)
        }
    };
    let digits: String = format!("{whole}{frac}");
    let digits = digits.trim_start_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if digits.len() > 30 {
        return Err(Error::TooLarge(s.to_string()));
    }
    let mantissa: i128 = digits.parse().map_err(|_| Error::Format)?;
    let scale = exp10 + 3 - i32::try_from(frac.len()).map_err(|_| Error::Format)?;
    let too_large = || Error::TooLarge(s.to_string());
    let mut value: i128 = mantissa.checked_mul(1i128 << exp2).ok_or_else(too_large)?;
    if scale >= 0 {
        let factor = 10i128
            .checked_pow(u32::try_from(scale).map_err(|_| too_large())?)
            .ok_or_else(too_large)?;
        value = value.checked_mul(factor).ok_or_else(too_large)?;
    } else {
        let divisor = 10i128.checked_pow(scale.unsigned_abs());
        value = match divisor {
            // Rounded up, as `ScaledValue` rounds.
            Some(d) => (value + d - 1) / d,
            None => i128::from(value > 0),
        };
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| too_large())
}

/// `NewMilliQuantity(v, DecimalSI).String()`: the canonical decimal form with the largest
/// SI suffix that keeps the mantissa whole. 250 → `"250m"`, 1000 → `"1"`, 1500 → `"1500m"`,
/// 2,000,000 → `"2k"`, 0 → `"0"`.
pub fn format_milli(v: i64) -> String {
    if v == 0 {
        return "0".to_string();
    }
    let mut mantissa = v;
    let mut exp = -3;
    while mantissa % 1000 == 0 && exp < 18 {
        mantissa /= 1000;
        exp += 3;
    }
    let suffix = match exp {
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        _ => "E",
    };
    format!("{mantissa}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milli_values_of_the_usual_forms() {
        for (s, want) in [
            ("500m", 500),
            ("1", 1000),
            ("1.5", 1500),
            ("0.1", 100),
            ("2k", 2_000_000),
            ("64Mi", 64 * 1024 * 1024 * 1000),
            ("1Gi", 1024 * 1024 * 1024 * 1000),
            ("1e3", 1_000_000),
            ("1E-3", 1),
            ("1n", 1),
            ("1u", 1),
            ("0", 0),
            ("-250m", -250),
            ("+3", 3000),
            ("100M", 100_000_000_000),
        ] {
            assert_eq!(milli_value(s), Ok(want), "{s}");
        }
    }

    #[test]
    fn bad_quantities_are_refused() {
        assert_eq!(milli_value(""), Err(Error::Format));
        assert_eq!(milli_value("abc"), Err(Error::Format));
        assert_eq!(milli_value("1.2.3"), Err(Error::Format));
        assert_eq!(milli_value("5x"), Err(Error::Suffix));
        assert!(matches!(milli_value("100E"), Err(Error::TooLarge(_))));
    }

    #[test]
    fn canonical_forms() {
        for (v, want) in [
            (250, "250m"),
            (1000, "1"),
            (1500, "1500m"),
            (2_000_000, "2k"),
            (0, "0"),
            (67_108_864_000, "67108864"),
            (-3000, "-3"),
        ] {
            assert_eq!(format_milli(v), want);
        }
    }

    #[test]
    fn format_then_parse_round_trips() {
        for v in [1, 999, 1000, 123_456_789, 5_000_000_000] {
            assert_eq!(milli_value(&format_milli(v)), Ok(v));
        }
    }
}
