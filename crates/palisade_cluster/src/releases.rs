//! The Kubernetes release table (`data/kubernetes-releases.tsv`) and what it says about a
//! version.

use palisade_config::Date;

/// One minor release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release {
    pub minor: (u32, u32),
    pub end_of_life: Date,
    pub latest_patch: Option<u32>,
}

const TABLE: &str = include_str!("../data/kubernetes-releases.tsv");

/// Parses the table; `Err` names the bad line.
pub fn parse_table(text: &str) -> Result<Vec<Release>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || format!("kubernetes-releases.tsv line {}: `{line}`", i + 1);
        let cols: Vec<&str> = line.split('\t').collect();
        let [minor, eol, patch] = cols[..] else {
            return Err(bad());
        };
        let minor = parse_minor(minor).ok_or_else(bad)?;
        let end_of_life = Date::parse(eol).ok_or_else(bad)?;
        let latest_patch = match patch {
            "-" => None,
            p => {
                let v = Version::parse(p).ok_or_else(bad)?;
                if (v.major, v.minor) != minor {
                    return Err(bad());
                }
                Some(v.patch)
            }
        };
        out.push(Release {
            minor,
            end_of_life,
            latest_patch,
        });
    }
    out.sort_by_key(|r| r.minor);
    Ok(out)
}

/// The table compiled into palisade.
pub fn releases() -> Vec<Release> {
    parse_table(TABLE).unwrap_or_else(|e| panic!("the built-in release table is invalid: {e}"))
}

fn parse_minor(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// A Kubernetes version as reported by `/version` or a kubelet: `v1.30.9-eks-1234`,
/// `v1.29.3+k3s1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let core = s.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        Some(Version {
            major,
            minor,
            patch,
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What the table says about a version on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Support {
    /// Past end of life; `None` when older than every release in the table.
    EndOfLife(Option<Date>),
    /// Supported, but its end of life is less than [`SOON_DAYS`] days away.
    EndingSoon(Date),
    /// Supported, but a newer patch of its minor release exists.
    PatchBehind(u32),
    Current,
    /// Newer than every release in the table.
    Unknown,
}

/// How close an end of life must be to be reported.
pub const SOON_DAYS: i64 = 90;

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
pub fn unix_days(d: Date) -> i64 {
    let y = i64::from(d.year) - i64::from(d.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(d.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Judges a version against the table on `today`.
pub fn support(table: &[Release], v: Version, today: Date) -> Support {
    let minor = (v.major, v.minor);
    let Some(release) = table.iter().find(|r| r.minor == minor) else {
        return match table.first() {
            Some(first) if minor < first.minor => Support::EndOfLife(None),
            _ => Support::Unknown,
        };
    };
    if release.end_of_life <= today {
        return Support::EndOfLife(Some(release.end_of_life));
    }
    if unix_days(release.end_of_life) - unix_days(today) <= SOON_DAYS {
        return Support::EndingSoon(release.end_of_life);
    }
    match release.latest_patch {
        Some(p) if p > v.patch => Support::PatchBehind(p),
        _ => Support::Current,
    }
}

/// The oldest minor release still supported on `today`, for messages.
pub fn supported_window(table: &[Release], today: Date) -> Option<((u32, u32), (u32, u32))> {
    let oldest = table.iter().find(|r| r.end_of_life > today)?.minor;
    let newest = table.last()?.minor;
    Some((oldest, newest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn the_built_in_table_parses_and_is_ordered() {
        let t = releases();
        assert!(t.len() >= 10);
        assert!(
            t.windows(2)
                .all(|w| w[0].minor < w[1].minor && w[0].end_of_life < w[1].end_of_life)
        );
    }

    #[test]
    fn bad_rows_are_named() {
        assert_eq!(
            parse_table("1.30\t2025-13-01\t-\n"),
            Err("kubernetes-releases.tsv line 1: `1.30\t2025-13-01\t-`".to_owned())
        );
        assert!(parse_table("1.30\t2025-06-28\t1.31.2\n").is_err());
    }

    #[test]
    fn versions_with_distribution_suffixes() {
        let v = Version::parse("v1.30.9-eks-1234").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 30, 9));
        assert_eq!(Version::parse("v1.29.3+k3s1").unwrap().patch, 3);
        assert_eq!(Version::parse("1.31").unwrap().patch, 0);
        assert_eq!(Version::parse("banana"), None);
    }

    #[test]
    fn support_verdicts() {
        let t = parse_table("1.30\t2025-06-28\t1.30.14\n1.31\t2025-10-28\t1.31.5\n").unwrap();
        let today = d("2025-07-01");
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(
            support(&t, v("v1.30.14"), today),
            Support::EndOfLife(Some(d("2025-06-28")))
        );
        assert_eq!(support(&t, v("v1.29.1"), today), Support::EndOfLife(None));
        assert_eq!(support(&t, v("v1.32.0"), today), Support::Unknown);
        assert_eq!(support(&t, v("v1.31.2"), today), Support::PatchBehind(5));
        assert_eq!(support(&t, v("v1.31.5"), today), Support::Current);
        assert_eq!(
            support(&t, v("v1.31.5"), d("2025-08-01")),
            Support::EndingSoon(d("2025-10-28"))
        );
        // The end-of-life day itself is past support.
        assert_eq!(
            support(&t, v("v1.30.14"), d("2025-06-28")),
            Support::EndOfLife(Some(d("2025-06-28")))
        );
        assert_eq!(supported_window(&t, today), Some(((1, 31), (1, 31))));
    }

    #[test]
    fn unix_days_round_trips() {
        for days in [0, 1, 59, 365, 10_957, 20_000, 20_454] {
            assert_eq!(unix_days(Date::from_unix_days(days)), days);
        }
    }
}
