/// A Kubernetes resource quantity (`500m`, `1Gi`, `2e3`), held exactly in thousandths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    millis: i128,
}

impl Quantity {
    /// Parses the canonical quantity grammar; `None` when the API server would reject it.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        if number.is_empty() || number == "+" || number == "-" || number == "." {
            return None;
        }
        let (numerator, denominator) = decimal(number)?;
        // value = numerator / denominator * multiplier
        let (mul_num, mul_den): (i128, i128) = match suffix {
            "" => (1, 1),
            "n" => (1, 1_000_000_000),
            "u" => (1, 1_000_000),
            "m" => (1, 1000),
            "k" => (1000, 1),
            "M" => (1_000_000, 1),
            "G" => (1_000_000_000, 1),
            "T" => (1_000_000_000_000, 1),
            "P" => (1_000_000_000_000_000, 1),
            "E" => (1_000_000_000_000_000_000, 1),
            "Ki" => (1 << 10, 1),
            "Mi" => (1 << 20, 1),
            "Gi" => (1 << 30, 1),
            "Ti" => (1 << 40, 1),
            "Pi" => (1 << 50, 1),
            "Ei" => (1 << 60, 1),
            s if s.starts_with(['e', 'E']) => {
                let exp: i32 = s[1..].parse().ok()?;
                if exp.unsigned_abs() > 18 {
                    return None;
                }
                let p = 10i128.pow(exp.unsigned_abs());
                if exp >= 0 { (p, 1) } else { (1, p) }
            }
            _ => return None,
        };
        let num = numerator.checked_mul(mul_num)?.checked_mul(1000)?;
        let den = denominator.checked_mul(mul_den)?;
        // Round up, as the API server does when it canonicalises to milli-units.
        let millis = if num >= 0 {
            (num + den - 1) / den
        } else {
            num / den
        };
        Some(Self { millis })
    }

    pub fn millis(self) -> i128 {
        self.millis
    }

    pub fn is_zero(self) -> bool {
        self.millis == 0
    }
}

/// Parses a signed decimal into numerator / 10^k.
fn decimal(s: &str) -> Option<(i128, i128)> {
    let (negative, s) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) || frac.len() > 18 {
        return None;
    }
    let digits = format!("{int}{frac}");
    let n: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let d = 10i128.pow(frac.len() as u32);
    Some((if negative { -n } else { n }, d))
}

#[cfg(test)]
mod tests {
    use super::Quantity;

    fn m(s: &str) -> i128 {
        Quantity::parse(s).unwrap().millis()
    }

    #[test]
    fn parses_quantities() {
        assert_eq!(m("500m"), 500);
        assert_eq!(m("1"), 1000);
        assert_eq!(m("0.5"), 500);
        assert_eq!(m("1Ki"), 1024 * 1000);
        assert_eq!(m("1Gi"), (1i128 << 30) * 1000);
        assert_eq!(m("2e3"), 2_000_000);
        assert_eq!(m("1k"), 1_000_000);
        assert_eq!(m("0"), 0);
        assert!(Quantity::parse("abc").is_none());
        assert!(Quantity::parse("1Zi").is_none());
        assert!(Quantity::parse("").is_none());
    }
}
