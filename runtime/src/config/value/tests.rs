use super::*;

#[test]
fn n_plus_one_settings_are_parsed_and_bounded() {
    assert_eq!(
        parse_text(Key::DbNPlusOneThreshold, " 7 "),
        Ok(Setting::DbNPlusOneThreshold(7))
    );
    assert!(parse_text(Key::DbNPlusOneThreshold, "-1").is_err());
    assert!(check(&Setting::DbNPlusOneThreshold(1)).is_err());
    assert!(check(&Setting::DbNPlusOneThreshold(2)).is_ok());
    assert_eq!(
        parse_text(Key::DbNPlusOneMinDuration, "0"),
        Ok(Setting::DbNPlusOneMinDuration(Duration::ZERO))
    );
    assert!(check(&Setting::DbNPlusOneMinDuration(Duration::from_secs(7200))).is_err());
    assert_eq!(
        parse_text(
            Key::DbNPlusOneAllowlist,
            " load_flags ; SELECT a, b FROM t WHERE id = ? ;;"
        ),
        Ok(Setting::DbNPlusOneAllowlist(vec![
            "load_flags".into(),
            "SELECT a, b FROM t WHERE id = ?".into()
        ]))
    );
    for (text, mode) in [
        ("warn", NPlusOneMode::Warn),
        ("RAISE", NPlusOneMode::Raise),
        (" off ", NPlusOneMode::Off),
    ] {
        assert_eq!(
            parse_text(Key::DbNPlusOneMode, text),
            Ok(Setting::DbNPlusOneMode(mode))
        );
    }
    assert!(parse_text(Key::DbNPlusOneMode, "panic").is_err());
}

#[test]
fn bools_accept_the_usual_spellings() {
    for yes in ["true", "TRUE", "1", "yes", "On", " on "] {
        assert_eq!(parse_bool(yes), Ok(true), "{yes}");
    }
    for no in ["false", "False", "0", "no", "OFF"] {
        assert_eq!(parse_bool(no), Ok(false), "{no}");
    }
    for bad in ["", "2", "y", "enabled", "truee"] {
        assert!(parse_bool(bad).is_err(), "{bad}");
    }
}

#[test]
fn durations_accept_humantime_and_milliseconds() {
    assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("1500"), Ok(Duration::from_millis(1500)));
    assert!(parse_duration("soon").is_err());
    assert!(parse_duration("-5").is_err());
}

#[test]
fn attributes_are_split_trimmed_and_percent_decoded() {
    let parsed = parse_attributes(" team = payments , region=eu%20west%2C1,, a=b=c ");
    let expected = [("team", "payments"), ("region", "eu west,1"), ("a", "b=c")];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(parsed, Ok(expected));
    assert_eq!(parse_attributes(""), Ok(vec![]));
}

#[test]
fn attributes_reject_bad_items() {
    assert!(parse_attributes("novalue").is_err());
    assert!(parse_attributes("=x").is_err());
    assert!(parse_attributes("a=%zz").is_err());
    assert!(parse_attributes("a=%4").is_err());
    assert!(parse_attributes("a=%ff").is_err(), "not UTF-8");
}

#[test]
fn endpoints_need_http_scheme_and_host() {
    assert!(check_endpoint("http://localhost:4317").is_ok());
    assert_eq!(
        check_endpoint("https://otel.example.com/v1/traces").is_ok(),
        cfg!(feature = "tls"),
        "https needs the tls feature"
    );
    assert!(check_endpoint("http://[::1]:4318").is_ok());
    assert_eq!(
        check_endpoint("localhost:4317"),
        Err(Refusal::because("a scheme is required"))
    );
    assert!(check_endpoint("ftp://x").is_err());
    assert!(check_endpoint("http://").is_err());
}

fn parse_nets(text: &str) -> Result<Vec<IpNet>, Refusal> {
    match parse_text(Key::MetricsAllowFrom, text)? {
        Setting::MetricsAllowFrom(nets) => Ok(nets),
        other => panic!("{other:?}"),
    }
}

fn parse_paths(text: &str) -> Result<Vec<String>, Refusal> {
    match parse_text(Key::HttpExcludePaths, text)? {
        Setting::HttpExcludePaths(paths) => Ok(paths),
        other => panic!("{other:?}"),
    }
}

#[test]
fn urls_are_shown_without_credentials() {
    assert_eq!(
        without_credentials("http://user:s3cret@127.0.0.1:4317"),
        "http://127.0.0.1:4317/"
    );
    assert_eq!(
        without_credentials("https://token@collector:4318/v1/traces"),
        "https://collector:4318/v1/traces"
    );
    assert_eq!(
        without_credentials("http://127.0.0.1:4317"),
        "http://127.0.0.1:4317"
    );
    let refused = Refusal::plain().into_error(
        Key::OtlpEndpoint,
        "ftp://user:s3cret@collector",
        Origin::Builder,
    );
    assert!(!refused.to_string().contains("s3cret"), "{refused}");
}

#[test]
fn networks_accept_cidrs_and_bare_addresses() {
    let nets = parse_nets(" 127.0.0.1/32, 10.1.2.3/8 ,::1,, 192.168.0.7").unwrap();
    let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        ["127.0.0.1/32", "10.0.0.0/8", "::1/128", "192.168.0.7/32"]
    );
    assert_eq!(parse_nets(""), Ok(vec![]));
    assert!(parse_nets("10.0.0.0/33").is_err());
    assert!(parse_nets("localhost").is_err());
    assert!(parse_nets("10.0.0.0/8;127.0.0.1").is_err());
}

#[test]
fn listen_addresses_need_an_ip_and_a_port() {
    assert_eq!(
        parse_socket_addr("127.0.0.1:9464"),
        Ok("127.0.0.1:9464".parse().unwrap())
    );
    assert_eq!(
        parse_socket_addr("[::1]:9464"),
        Ok("[::1]:9464".parse().unwrap())
    );
    assert_eq!(
        parse_socket_addr("127.0.0.1"),
        Err(Refusal::because("the port is missing"))
    );
    assert_eq!(
        parse_socket_addr("localhost:9464"),
        Err(Refusal::because(
            "a host name is not allowed here, only an IP address"
        ))
    );
    assert!(parse_socket_addr("127.0.0.1:99999").is_err());
}

#[test]
fn endpoint_paths_are_routable() {
    for ok in ["/metrics", "/", "/internal/metrics-v2", "/a.b~c_d"] {
        assert!(check_path(ok).is_ok(), "{ok}");
    }
    for bad in [
        "metrics",
        "",
        "/metrics?x=1",
        "/me trics",
        "/{id}",
        "/a#b",
        "/%20",
    ] {
        assert!(check_path(bad).is_err(), "{bad}");
    }
}

#[test]
fn excluded_paths_are_a_list_of_routable_paths() {
    assert_eq!(
        parse_paths(" /health, /ready ,, /metrics"),
        Ok(vec!["/health".into(), "/ready".into(), "/metrics".into()])
    );
    assert_eq!(parse_paths(""), Ok(vec![]));
    assert_eq!(
        parse_paths("/health,/a b"),
        Err(Refusal::because(
            "\"/a b\" is not a path: it contains whitespace"
        ))
    );
    let ok = Setting::HttpExcludePaths(vec!["/health".into(), "/internal/ping".into()]);
    assert!(check(&ok).is_ok());
    assert!(check(&Setting::HttpExcludePaths(vec![])).is_ok());
    let bad = Setting::HttpExcludePaths(vec!["/health".into(), "ready".into()]);
    assert_eq!(
        check(&bad),
        Err(Refusal::because(
            "\"ready\" is not a path: it does not start with /"
        ))
    );
}

#[test]
fn tokens_are_visible_ascii_and_never_shown() {
    assert!(check_token("s3cr3t-Token_~+/=").is_ok());
    assert!(check_token("").is_err());
    assert!(check_token("two words").is_err());
    assert!(check_token("tab\there").is_err());
    assert!(check_token("café").is_err());
    let error = Refusal::because("it contains whitespace").into_error(
        Key::MetricsBearerToken,
        "hunter2 hunter2",
        Origin::Builder,
    );
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert_eq!(
        Setting::MetricsBearerToken("hunter2".into()).to_string(),
        "***"
    );
}

#[test]
fn filters_follow_rust_log_and_catch_level_typos() {
    let targets = [
        "my_crate", "mio", "io", "tokio", "tracing", "log", "offset", "rand",
    ];
    for ok in ["info", "INFO", "info,sqlx=warn", "hyper=off"]
        .iter()
        .chain(&targets)
    {
        assert!(check_filter(ok).is_ok(), "{ok}");
    }
    for bad in ["", "inof", "warning", "debgu", "info,foo=bogus", "=", "[{"] {
        assert!(check_filter(bad).is_err(), "{bad}");
    }
}

#[test]
fn backtrace_modes_are_parsed_and_others_refused() {
    for (text, mode) in [
        ("auto", BacktraceMode::Auto),
        (" ON ", BacktraceMode::On),
        ("off", BacktraceMode::Off),
    ] {
        assert_eq!(
            parse_text(Key::ErrorsBacktrace, text),
            Ok(Setting::ErrorsBacktrace(mode))
        );
    }
    for refused in ["1", "full", "true", ""] {
        assert!(
            parse_text(Key::ErrorsBacktrace, refused).is_err(),
            "{refused:?}"
        );
    }
}

#[test]
fn tail_thresholds_are_durations_or_off() {
    for (text, threshold) in [
        ("1s", Some(Duration::from_secs(1))),
        ("250", Some(Duration::from_millis(250))),
        (" OFF ", None),
    ] {
        assert_eq!(
            parse_text(Key::KeepSlowerThan, text),
            Ok(Setting::KeepSlowerThan(threshold))
        );
    }
    assert!(parse_text(Key::KeepSlowerThan, "soon").is_err());
    let zero = parse_text(Key::KeepSlowerThan, "0s").expect("a duration");
    assert!(check(&zero).is_err(), "0 would keep every trace");
}

#[test]
fn sizes_are_bytes_with_an_optional_binary_unit() {
    for (text, bytes) in [
        ("4096", 4096),
        ("512KiB", 512 << 10),
        ("64 MiB", 64 << 20),
        ("1g", 1 << 30),
    ] {
        assert_eq!(parse_bytes(text), Ok(bytes), "{text}");
    }
    for refused in [
        "",
        "MiB",
        "1.5MiB",
        "-1",
        "12 parsecs",
        "99999999999999999999G",
    ] {
        assert!(parse_bytes(refused).is_err(), "{refused:?}");
    }
}
