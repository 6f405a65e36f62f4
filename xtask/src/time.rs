//! Timestamps as xtask records them and Kubernetes reports them: RFC 3339 in UTC, whole
//! seconds (`2026-11-24T15:51:26Z`), which sort as text in time order.

use jiff::Timestamp;

pub fn now_rfc3339() -> String {
    rfc3339(Timestamp::now())
}

pub fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An RFC 3339 timestamp (any offset, any fraction), or None when `text` is not one.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::{parse_time, rfc3339};

    #[test]
    fn rfc3339_dates() {
        let at = |second| Timestamp::from_second(second).unwrap();
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(1_795_535_486)), "2026-11-24T15:51:26Z");
        // Whole seconds: a record written this second sorts with the others.
        assert_eq!(rfc3339(Timestamp::new(1_795_535_486, 999_999_999).unwrap()), "2026-11-24T15:51:26Z");
    }

    #[test]
    fn kubernetes_timestamps_parse_to_epoch_seconds() {
        let second = |text| parse_time(text).map(Timestamp::as_second);
        assert_eq!(second("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(second("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(second("2000-02-29T01:00:00+01:00"), Some(951_782_400));
        assert_eq!(second("2000-02-30T00:00:00Z"), None);
        assert_eq!(second("yesterday"), None);
    }
}
