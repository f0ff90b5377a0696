//! Formatting of times for pages.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A time in the configured zone with the zone named, e.g. "4 Dec 2026, 14:05 EST".
pub fn local_time(time: DateTime<Utc>, zone: Tz) -> String {
    time.with_timezone(&zone).format("%-d %b %Y, %H:%M %Z").to_string()
}

/// A relative age such as "3 days ago", measured from `now`.
pub fn age(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - time).num_seconds().max(0);
    let (count, unit) = match seconds {
        0..60 => return "just now".to_owned(),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural} ago")
}

/// Formats a file size for people: "512 bytes", "14.2 KB" or "3.0 MB" (powers of 1024).
pub fn file_size(bytes: i64) -> String {
    const KIB: f64 = 1024.0;
    let value = bytes as f64;
    if bytes < 1024 {
        let plural = if bytes == 1 { "" } else { "s" };
        format!("{bytes} byte{plural}")
    } else if value < KIB * KIB {
        format!("{:.1} KB", value / KIB)
    } else {
        format!("{:.1} MB", value / (KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn age_in_days() {
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        let then = Utc.with_ymd_and_hms(2026, 12, 1, 11, 0, 0).unwrap();
        assert_eq!(age(then, now), "3 days ago");
    }

    #[test]
    fn age_of_one_hour_is_singular() {
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        let then = Utc.with_ymd_and_hms(2026, 12, 4, 10, 30, 0).unwrap();
        assert_eq!(age(then, now), "1 hour ago");
    }

    #[test]
    fn local_time_follows_daylight_saving_change() {
        // Clocks in Toronto went from 02:00 EST to 03:00 EDT on 8 March 2026.
        let before = Utc.with_ymd_and_hms(2026, 3, 8, 6, 30, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap();
        assert_eq!(local_time(before, chrono_tz::America::Toronto), "8 Mar 2026, 01:30 EST");
        assert_eq!(local_time(after, chrono_tz::America::Toronto), "8 Mar 2026, 03:30 EDT");
    }

    #[test]
    fn local_time_names_zone() {
        let time = Utc.with_ymd_and_hms(2026, 12, 4, 19, 5, 0).unwrap();
        assert_eq!(local_time(time, chrono_tz::America::Toronto), "4 Dec 2026, 14:05 EST");
    }

    #[test]
    fn file_sizes_read_naturally() {
        assert_eq!(file_size(1), "1 byte");
        assert_eq!(file_size(1536), "1.5 KB");
        assert_eq!(file_size(20 * 1024 * 1024), "20.0 MB");
    }
}
