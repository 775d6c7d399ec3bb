//! Reading time from untrusted text: webhook payloads (`wait = { until = … }`), `seam audit export --since` and
//! stored runs. Every input here must come back as a value or an error, never as a panic.

use seam_flow::{Duration, TimeError, Timestamp};

fn at(text: &str) -> Result<i64, TimeError> {
    Timestamp::parse_rfc3339(text).map(Timestamp::unix_seconds)
}

#[track_caller]
fn refused(text: &str) {
    match Timestamp::parse_rfc3339(text) {
        Err(TimeError::BadTimestamp(echoed)) => assert_eq!(echoed, text),
        other => panic!("{text:?} should be refused as a timestamp, got {other:?}"),
    }
}

#[test]
fn rfc3339_years_run_from_0000_to_9999() {
    assert_eq!(at("0000-01-01T00:00:00Z"), Ok(-62_167_219_200));
    assert_eq!(at("0000-01-01"), Ok(-62_167_219_200));
    assert_eq!(at("9999-12-31T23:59:59Z"), Ok(253_402_300_799));
    assert_eq!(at("1970-01-01T00:00:00Z"), Ok(0));
    for far in [
        "10000-01-01T00:00:00Z",
        "9999999999999999-01-01T00:00:00Z",
        "99999999999999999999-01-01T00:00:00Z",
        "292277026596-12-04T15:30:07Z",
        "-0001-01-01T00:00:00Z",
        "+2026-01-01T00:00:00Z",
        "-9999999999999999-01-01",
    ] {
        refused(far);
    }
}

#[test]
fn huge_numbers_in_any_field_are_refused() {
    for text in [
        "2026-99999999999999999999-01T00:00:00Z",
        "2026-01-99999999999999999999T00:00:00Z",
        "2026-01-01T99999999999999999999:00:00Z",
        "2026-01-01T00:99999999999999999999:00Z",
        "2026-01-01T00:00:99999999999999999999Z",
        "2026-01-01T9223372036854775807:00:00Z",
        "2026-01-01T00:00:00+9999999999999999:00",
        "2026-01-01T00:00:00-9223372036854775807:59",
        "2026-01-01T00:00:00+00:9999999999999999",
    ] {
        refused(text);
    }
    // A long fraction of a second is only dropped, however many digits it has.
    assert_eq!(at("2026-01-01T00:00:00.99999999999999999999999999Z"), at("2026-01-01T00:00:00Z"));
}

#[test]
fn empty_and_malformed_text_is_refused() {
    for text in [
        "",
        " ",
        "T",
        "Z",
        "-",
        "--",
        "--T::Z",
        "2026",
        "2026-01",
        "2026-01-01T",
        "2026-01-01TZ",
        "2026-01-01T00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00.5.5Z",
        "2026-01-01T00:00:00.-5Z",
        "2026-01-01T-1:00:00Z",
        "2026-01-01T+1:00:00Z",
        "2026-+1-01",
        "2026-01-01T00:00:00+",
        "2026-01-01T00:00:00+01",
        "2026-01-01T00:00:00+0100",
        "2026-01-01T00:00:00+01:",
        "2026-01-01T00:00:00+:00",
        "2026-01-01T00:00:00ZZ",
        "2026-01-01-01",
        "yesterday",
    ] {
        refused(text);
    }
}

#[test]
fn only_ascii_digits_count() {
    for text in [
        "２０２６-01-01T00:00:00Z",
        "٢٠٢٦-01-01T00:00:00Z",
        "2026-٠١-01",
        "2026-01-01T0٩:00:00Z",
        "2026-01-01T00:00:00+٠١:00",
        "2026-01-01T00:00:00.٥Z",
        "2026\u{2212}01\u{2212}01",
    ] {
        refused(text);
    }
}

#[test]
fn calendar_dates_must_exist() {
    for text in [
        "2026-02-30T00:00:00Z",
        "2026-02-29",
        "2100-02-29",
        "2026-04-31",
        "2026-00-10",
        "2026-13-01",
        "2026-01-00",
        "2026-01-32",
        "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z",
        "2026-01-01T23:59:61Z",
    ] {
        refused(text);
    }
    assert_eq!(at("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
    assert_eq!(at("2000-02-29"), Ok(951_782_400));
}

#[test]
fn a_leap_second_reads_as_the_second_after_it() {
    // Unix time has no leap seconds; 23:59:60 UTC is taken as the midnight that follows it.
    let midnight = at("2017-01-01T00:00:00Z").unwrap();
    assert_eq!(at("2016-12-31T23:59:60Z"), Ok(midnight));
    assert_eq!(at("2016-12-31T15:59:60-08:00"), Ok(midnight));
    assert_eq!(at("2017-01-01T05:29:60+05:30"), Ok(midnight));
    assert_eq!(at("2016-12-31T23:59:60.5Z"), Ok(midnight));
    // A leap second happens only at the end of a UTC day.
    for text in ["2016-12-31T12:30:60Z", "2016-12-31T23:59:60+01:00", "2016-12-31T23:58:60Z"] {
        refused(text);
    }
}

#[test]
fn offsets_must_be_a_time_of_day() {
    let utc = at("2026-01-31T09:00:00Z").unwrap();
    assert_eq!(at("2026-01-31T10:00:00+01:00"), Ok(utc));
    assert_eq!(at("2026-01-31T04:00:00-05:00"), Ok(utc));
    assert_eq!(at("2026-01-31T09:00:00-00:00"), Ok(utc));
    assert_eq!(at("2026-01-31T09:00:00+00:00"), Ok(utc));
    assert_eq!(at("2026-01-31T09:00:00z"), Ok(utc));
    assert_eq!(at("2026-01-31t09:00:00Z"), Ok(utc));
    assert_eq!(at("2026-01-31 09:00:00Z"), Ok(utc));
    assert_eq!(at("2026-02-01T08:59:00+23:59"), Ok(utc));
    for text in [
        "2026-01-31T09:00:00+99:99",
        "2026-01-31T09:00:00+24:00",
        "2026-01-31T09:00:00-24:00",
        "2026-01-31T09:00:00+23:60",
        "2026-01-31T09:00:00+01:00Z",
        "2026-01-31T09:00:00Z+01:00",
        "2026-01-31T09:00:00+-1:00",
    ] {
        refused(text);
    }
    // The edges of the year range stay within reach of an offset.
    assert_eq!(at("0000-01-01T00:00:00+23:59"), Ok(-62_167_219_200 - 86_340));
    assert_eq!(at("9999-12-31T23:59:59-23:59"), Ok(253_402_300_799 + 86_340));
}

#[test]
fn every_instant_survives_a_round_trip_through_its_stored_text() {
    // Stored runs serialize their instants as text, including ones far outside 0000..=9999 that a template gave
    // as Unix seconds; loading such a run must neither panic nor fail.
    for seconds in [
        i64::MIN,
        i64::MIN + 1,
        -62_167_219_201,
        -62_167_219_200,
        -86_401,
        -1,
        0,
        1_769_850_000,
        253_402_300_799,
        253_402_300_800,
        1_769_850_000_000,
        1_769_850_000_000_000,
        i64::MAX - 1,
        i64::MAX,
    ] {
        let instant = Timestamp::from_unix_seconds(seconds);
        let stored = serde_json::to_string(&instant).unwrap();
        let loaded: Timestamp = serde_json::from_str(&stored)
            .unwrap_or_else(|error| panic!("{seconds}: {stored} did not load: {error}"));
        assert_eq!(loaded, instant, "{stored}");
    }
    for stored in [
        "\"99999999999999999999-01-01T00:00:00Z\"",
        "\"292277026597-01-01T00:00:00Z\"",
        "\"-292277022658-01-01T00:00:00Z\"",
        "\"\"",
        "\"2026-01-01T00:00:00+99:99\"",
    ] {
        assert!(serde_json::from_str::<Timestamp>(stored).is_err(), "{stored} should not load");
    }
}

#[test]
fn durations_refuse_huge_numbers_and_odd_digits() {
    for text in [
        "99999999999999999999d",
        "18446744073709551615s",
        "18446744073709551616s",
        "30500000000000w",
        "3d99999999999999999h",
        "5000w",
        "3661d",
    ] {
        assert_eq!(Duration::parse(text), Err(TimeError::DurationTooLong(text.to_owned())), "{text:?}");
    }
    for text in ["", " ", "d", "3", "1.5h", "-1d", "+1d", "1d-1h", "٣d", "３d", "1 d", "1dd", "1e3s", "0x10s"]
    {
        assert_eq!(Duration::parse(text), Err(TimeError::BadDuration(text.to_owned())), "{text:?}");
    }
    assert_eq!(Duration::parse("3660d"), Ok(Duration::MAX));
    assert_eq!(Duration::parse("0000000000000000000000000000001s"), Ok(Duration::from_seconds(1)));
    assert_eq!(Duration::parse(" 1h30m "), Ok(Duration::from_seconds(5400)));
}
