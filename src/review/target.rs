//! The review target: how long a request may wait on IST, counted in
//! business days (Monday to Friday in the university's time zone).

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::requests::RequestStatus;

/// Time between `start` and `now` that falls on weekdays in `zone`.
// NOTE: public holidays count as business days; the university calendar is not modelled.
pub fn business_time_elapsed(start: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> Duration {
    if now <= start {
        return Duration::zero();
    }
    let local_midnight = |date: chrono::NaiveDate| {
        zone.from_local_datetime(&date.and_time(NaiveTime::MIN))
            .earliest()
            .map_or_else(|| date.and_time(NaiveTime::MIN).and_utc(), |time| time.with_timezone(&Utc))
    };
    let mut total = Duration::zero();
    let mut date = start.with_timezone(&zone).date_naive();
    let last = now.with_timezone(&zone).date_naive();
    while date <= last {
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            let day_start = local_midnight(date).max(start);
            let day_end = local_midnight(date.succ_opt().expect("date in range")).min(now);
            if day_end > day_start {
                total += day_end - day_start;
            }
        }
        date = date.succ_opt().expect("date in range");
    }
    total
}

/// Whether a request has waited on IST longer than the target. Requests
/// waiting on the requester, and decided ones, are never overdue.
pub fn is_overdue(
    status: RequestStatus,
    clock_started_at: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: Tz,
    target_business_days: u32,
) -> bool {
    let waiting_on_ist = matches!(status, RequestStatus::Submitted | RequestStatus::InReview | RequestStatus::Approved);
    waiting_on_ist
        && business_time_elapsed(clock_started_at, now, zone) > Duration::days(i64::from(target_business_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::Toronto;

    fn toronto(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
        Toronto.with_ymd_and_hms(year, month, day, hour, 0, 0).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekend_does_not_count() {
        // Friday 09:00 to Monday 09:00 is one business day.
        let elapsed = business_time_elapsed(toronto(2026, 12, 4, 9), toronto(2026, 12, 7, 9), Toronto);
        assert_eq!(elapsed, Duration::days(1));
    }

    #[test]
    fn three_weekdays_are_not_overdue_at_target() {
        let start = toronto(2026, 12, 1, 9);
        assert!(!is_overdue(RequestStatus::Submitted, start, toronto(2026, 12, 4, 9), Toronto, 3));
        assert!(is_overdue(RequestStatus::Submitted, start, toronto(2026, 12, 4, 10), Toronto, 3));
    }

    #[test]
    fn waiting_on_requester_is_never_overdue() {
        let start = toronto(2026, 11, 1, 9);
        assert!(!is_overdue(RequestStatus::NeedsInfo, start, toronto(2026, 12, 4, 9), Toronto, 3));
    }

    #[test]
    fn daylight_saving_change_counts_real_hours() {
        // Sunday 8 March 2026 is the spring change; Friday to Monday spans it.
        let elapsed = business_time_elapsed(toronto(2026, 3, 6, 12), toronto(2026, 3, 9, 12), Toronto);
        assert_eq!(elapsed, Duration::hours(24));
    }
}
