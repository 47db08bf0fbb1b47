//! Configuration through the public API: precedence of the sources, profile
//! defaults, and the messages of every kind of error.
//!
//! Every test passes its own environment with `.env_vars(...)` and either
//! names its config file or says there is none, so the real environment and
//! working directory never leak in.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use o11y::config::{ConfigBuilder, LogFormat, Origin, OtlpProtocol, OtlpSignal, Profile};
use o11y::{Config, ConfigError};

/// A builder with exactly these environment variables and no config file.
fn with_env(vars: &[(&str, &str)]) -> ConfigBuilder {
    Config::builder()
        .env_vars(vars.iter().copied())
        .no_config_file()
}

/// A builder reading `contents` as its config file, with these variables.
fn with_file(contents: &str, vars: &[(&str, &str)]) -> (ConfigBuilder, tempfile::NamedTempFile) {
    let file = toml_file(contents);
    let builder = Config::builder()
        .env_vars(vars.iter().copied())
        .config_file(file.path());
    (builder, file)
}

fn toml_file(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .prefix("o11y")
        .suffix(".toml")
        .tempfile()
        .expect("temp file");
    file.write_all(contents.as_bytes())
        .expect("write temp file");
    file
}

fn file_origin(path: &Path, line: usize, column: usize) -> Origin {
    Origin::File {
        path: path.to_owned(),
        line,
        column,
    }
}

fn env_origin(var: &str) -> Origin {
    Origin::Env(var.to_owned())
}

fn build_err(builder: ConfigBuilder) -> ConfigError {
    match builder.build() {
        Ok(config) => panic!("expected an error, got {config:#?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_mentions(err: &ConfigError, parts: &[&str]) {
    let message = err.to_string();
    for part in parts {
        assert!(
            message.contains(part),
            "{message:?} should mention {part:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// tracing.sample_rate
// ---------------------------------------------------------------------------

#[test]
fn sample_rate_above_one_from_env() {
    let err = build_err(with_env(&[("O11Y_TRACING_SAMPLE_RATE", "1.5")]));
    assert_eq!(err.key(), Some("tracing.sample_rate"));
    assert_eq!(err.value(), Some("1.5"));
    assert_eq!(err.origin(), Some(env_origin("O11Y_TRACING_SAMPLE_RATE")));
    assert_eq!(
        err.to_string(),
        "invalid tracing.sample_rate = \"1.5\" (from environment variable \
         O11Y_TRACING_SAMPLE_RATE): expected a number from 0.0 to 1.0"
    );
}

#[test]
fn sample_rate_negative_from_builder() {
    let err = build_err(with_env(&[]).sample_rate(-0.1));
    assert_eq!(err.key(), Some("tracing.sample_rate"));
    assert_eq!(err.origin(), Some(Origin::Builder));
    assert_mentions(&err, &["\"-0.1\"", "Config::builder()", "0.0 to 1.0"]);
}

#[test]
fn sample_rate_not_a_number_from_file_has_line_and_column() {
    let (builder, file) = with_file("[tracing]\nsample_rate = \"abc\"\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.key(), Some("tracing.sample_rate"));
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 15)));
    let position = format!("{}:2:15", file.path().display());
    assert_mentions(&err, &["\"abc\"", &position, "a number from 0.0 to 1.0"]);
}

#[test]
fn sample_rate_out_of_range_in_every_source() {
    let err = build_err(with_env(&[("O11Y_TRACING_SAMPLE_RATE", "abc")]));
    assert_eq!(err.origin(), Some(env_origin("O11Y_TRACING_SAMPLE_RATE")));
    assert_mentions(&err, &["\"abc\"", "0.0 to 1.0"]);

    let err = build_err(with_env(&[("O11Y_TRACING_SAMPLE_RATE", "-0.1")]));
    assert_mentions(&err, &["\"-0.1\"", "0.0 to 1.0"]);

    let err = build_err(with_env(&[("O11Y_TRACING_SAMPLE_RATE", "NaN")]));
    assert_mentions(&err, &["\"NaN\"", "0.0 to 1.0"]);

    let err = build_err(with_env(&[]).sample_rate(f64::NAN));
    assert_eq!(err.origin(), Some(Origin::Builder));

    let err = build_err(with_env(&[]).sample_rate(1.5));
    assert_mentions(&err, &["\"1.5\"", "Config::builder()"]);

    let (builder, file) = with_file("[tracing]\nsample_rate = 1.5\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 15)));
    assert_mentions(&err, &["\"1.5\"", "0.0 to 1.0"]);

    let (builder, _file) = with_file("[tracing]\nsample_rate = -0.1\n", &[]);
    assert_mentions(&build_err(builder), &["\"-0.1\""]);

    let (builder, _file) = with_file("[tracing]\nsample_rate = nan\n", &[]);
    assert_mentions(&build_err(builder), &["\"nan\""]);
}

#[test]
fn sample_rate_accepts_toml_integers_floats_and_strings() {
    for (toml, rate) in [("1", 1.0), ("0", 0.0), ("0.25", 0.25), ("\"0.5\"", 0.5)] {
        let (builder, _file) = with_file(&format!("[tracing]\nsample_rate = {toml}\n"), &[]);
        let config = builder.build().unwrap();
        assert_eq!(config.tracing.sample_rate, rate, "{toml}");
    }
}

#[test]
fn wrong_toml_type_names_the_type() {
    let (builder, file) = with_file("[tracing]\nenabled = 5\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.key(), Some("tracing.enabled"));
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 11)));
    assert_mentions(&err, &["\"5\"", "true or false", "found a TOML integer"]);
}

// ---------------------------------------------------------------------------
// Endpoint, profile, log format and level
// ---------------------------------------------------------------------------

#[test]
fn endpoint_without_scheme() {
    let err = build_err(with_env(&[(
        "O11Y_TRACING_OTLP_ENDPOINT",
        "localhost:4317",
    )]));
    assert_eq!(err.key(), Some("tracing.otlp_endpoint"));
    assert_eq!(err.origin(), Some(env_origin("O11Y_TRACING_OTLP_ENDPOINT")));
    assert_mentions(
        &err,
        &[
            "\"localhost:4317\"",
            "http:// or https:// URL",
            "http://localhost:4317",
            "scheme is required",
        ],
    );
}

#[test]
fn endpoint_with_unsupported_scheme() {
    let err = build_err(with_env(&[]).otlp_endpoint("ftp://x"));
    assert_eq!(err.key(), Some("tracing.otlp_endpoint"));
    assert_eq!(err.origin(), Some(Origin::Builder));
    assert_mentions(&err, &["\"ftp://x\"", "http:// or https://", "ftp"]);

    let (builder, file) = with_file("[tracing]\notlp_endpoint = \"ftp://x\"\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 17)));
}

#[test]
fn endpoints_in_the_file_are_trimmed_like_variables() {
    let (builder, _file) = with_file(
        "[tracing]\notlp_endpoint = \" http://localhost:4317 \"\n",
        &[],
    );
    let config = builder.build().unwrap();
    assert_eq!(
        config.tracing.otlp_endpoint.as_deref(),
        Some("http://localhost:4317")
    );
}

#[test]
fn standard_endpoint_variable_is_validated_too() {
    let err = build_err(with_env(&[(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "localhost:4317",
    )]));
    assert_eq!(err.key(), Some("tracing.otlp_endpoint"));
    assert_eq!(
        err.origin(),
        Some(env_origin("OTEL_EXPORTER_OTLP_ENDPOINT"))
    );
}

#[test]
fn unknown_profile_from_env() {
    let err = build_err(with_env(&[("O11Y_PROFILE", "staging")]));
    assert_eq!(err.key(), Some("profile"));
    assert_eq!(err.origin(), Some(env_origin("O11Y_PROFILE")));
    assert_mentions(&err, &["\"staging\"", "dev, prod, test", "O11Y_PROFILE"]);
}

#[test]
fn unknown_profile_from_file() {
    let (builder, file) = with_file("profile = \"staging\"\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.key(), Some("profile"));
    assert_eq!(err.origin(), Some(file_origin(file.path(), 1, 11)));
    assert_mentions(&err, &["\"staging\"", "dev, prod, test"]);
}

#[test]
fn unknown_log_format() {
    let err = build_err(with_env(&[("O11Y_LOGGING_FORMAT", "xml")]));
    assert_eq!(err.key(), Some("logging.format"));
    assert_eq!(err.origin(), Some(env_origin("O11Y_LOGGING_FORMAT")));
    assert_mentions(&err, &["\"xml\"", "console or json"]);
}

#[test]
fn log_level_must_be_a_filter() {
    let err = build_err(with_env(&[("O11Y_LOGGING_LEVEL", "info,sqlx=loud")]));
    assert_eq!(err.key(), Some("logging.level"));
    assert_mentions(&err, &["\"info,sqlx=loud\"", "RUST_LOG syntax"]);

    // A bare word is a target in RUST_LOG syntax; one this close to a level
    // is a typo, and saying so beats silently logging nothing.
    let err = build_err(with_env(&[("RUST_LOG", "inof")]));
    assert_eq!(err.origin(), Some(env_origin("RUST_LOG")));
    assert_mentions(&err, &["\"inof\"", "did you mean info?"]);

    let config = with_env(&[("O11Y_LOGGING_LEVEL", "info,sqlx=warn")])
        .build()
        .unwrap();
    assert_eq!(config.logging.level, "info,sqlx=warn");
}

#[test]
fn service_name_must_not_be_empty() {
    let err = build_err(with_env(&[]).service_name(""));
    assert_eq!(err.key(), Some("service_name"));
    assert_eq!(err.origin(), Some(Origin::Builder));
    assert_mentions(&err, &["\"\"", "non-empty"]);
}

#[test]
fn shutdown_timeout_syntax_and_bounds() {
    let config = with_env(&[("O11Y_SHUTDOWN_TIMEOUT", "250ms")])
        .build()
        .unwrap();
    assert_eq!(config.shutdown_timeout, Duration::from_millis(250));

    let (builder, _file) = with_file("shutdown_timeout = 1500\n", &[]);
    assert_eq!(
        builder.build().unwrap().shutdown_timeout,
        Duration::from_millis(1500)
    );

    let (builder, _file) = with_file("shutdown_timeout = \"2s\"\n", &[]);
    assert_eq!(
        builder.build().unwrap().shutdown_timeout,
        Duration::from_secs(2)
    );

    for bad in ["0s", "11m", "soon"] {
        let err = build_err(with_env(&[("O11Y_SHUTDOWN_TIMEOUT", bad)]));
        assert_eq!(err.key(), Some("shutdown_timeout"));
        assert_mentions(&err, &[&format!("\"{bad}\""), "at most 10m", "\"5s\""]);
    }
    let err = build_err(with_env(&[]).shutdown_timeout(Duration::ZERO));
    assert_eq!(err.origin(), Some(Origin::Builder));
}

#[test]
fn booleans_accept_common_spellings() {
    let config = with_env(&[
        ("O11Y_TRACING_ENABLED", "off"),
        ("O11Y_METRICS_ENABLED", "YES"),
        ("O11Y_LOGGING_FILE_ENABLED", "0"),
        ("O11Y_TRACING_CONSOLE_EXPORTER", "On"),
    ])
    .build()
    .unwrap();
    assert!(!config.tracing.enabled);
    assert!(config.metrics.enabled);
    assert!(!config.logging.file_enabled);
    assert!(config.tracing.console_exporter);

    let err = build_err(with_env(&[("O11Y_TRACING_ENABLED", "maybe")]));
    assert_eq!(err.key(), Some("tracing.enabled"));
    assert_mentions(&err, &["\"maybe\"", "true or false"]);
}

// ---------------------------------------------------------------------------
// Unknown keys, malformed files, missing files
// ---------------------------------------------------------------------------

#[test]
fn unknown_key_in_file_suggests_the_right_one() {
    let (builder, file) = with_file("[tracing]\nsample_rat = 0.5\n", &[]);
    let err = build_err(builder);
    assert!(matches!(err, ConfigError::UnknownKey { .. }), "{err:?}");
    assert_eq!(err.key(), Some("tracing.sample_rat"));
    assert_eq!(err.suggestion(), Some("tracing.sample_rate"));
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 1)));
    assert_eq!(
        err.to_string(),
        format!(
            "unknown key tracing.sample_rat in {}:2:1; did you mean tracing.sample_rate?",
            file.path().display()
        )
    );
}

#[test]
fn unknown_section_and_misplaced_key() {
    let (builder, _file) = with_file("[tracin]\nenabled = true\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.key(), Some("tracin"));
    assert_eq!(err.suggestion(), Some("tracing"));

    let (builder, _file) = with_file("[tracing]\nlevel = \"info\"\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.key(), Some("tracing.level"));
    assert_mentions(&err, &["did you mean logging.level?"]);

    let (builder, _file) = with_file("[database]\nurl = \"x\"\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.suggestion(), None);
}

#[test]
fn unknown_o11y_env_var_suggests_the_right_one() {
    let err = build_err(with_env(&[("O11Y_TRACING_SAMPEL_RATE", "0.5")]));
    assert!(matches!(err, ConfigError::UnknownKey { .. }), "{err:?}");
    assert_eq!(err.key(), Some("O11Y_TRACING_SAMPEL_RATE"));
    assert_eq!(err.suggestion(), Some("O11Y_TRACING_SAMPLE_RATE"));
    assert_eq!(err.origin(), Some(env_origin("O11Y_TRACING_SAMPEL_RATE")));
    assert_eq!(
        err.to_string(),
        "unknown environment variable O11Y_TRACING_SAMPEL_RATE; \
         did you mean O11Y_TRACING_SAMPLE_RATE?"
    );
}

#[test]
fn test_tooling_variables_are_not_unknown() {
    let config = with_env(&[
        ("O11Y_REQUIRE_PEERS", "1"),
        ("O11Y_TEST_SEED", "42"),
        ("O11Y_PEERS_DIR", "/tmp/peers"),
        ("OTEL_SOMETHING_ELSE", "ignored"),
    ])
    .build();
    assert!(config.is_ok(), "{config:?}");
}

#[test]
fn malformed_toml_reports_line_and_column() {
    let (builder, file) = with_file("[tracing]\nenabled = tru\n", &[]);
    let err = build_err(builder);
    let ConfigError::Parse {
        path, line, column, ..
    } = &err
    else {
        panic!("expected a parse error, got {err:?}");
    };
    assert_eq!((path.as_path(), *line, *column), (file.path(), 2, 11));
    let position = format!("{}:2:11", file.path().display());
    assert_mentions(&err, &["malformed TOML", &position, "boolean"]);
}

#[test]
fn explicit_missing_config_file_is_an_error() {
    let missing = PathBuf::from("/nonexistent/o11y-test/o11y.toml");
    let err = build_err(
        Config::builder()
            .env_vars([("HOME", "/home/u")])
            .config_file(&missing),
    );
    assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
    assert_eq!(err.origin(), Some(Origin::Builder));
    assert_mentions(
        &err,
        &["/nonexistent/o11y-test/o11y.toml", "Config::builder()"],
    );

    let err = build_err(
        Config::builder().env_vars([("O11Y_CONFIG", "/nonexistent/o11y-test/o11y.toml")]),
    );
    assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
    assert_eq!(err.origin(), Some(env_origin("O11Y_CONFIG")));
    assert_mentions(&err, &["/nonexistent/o11y-test/o11y.toml", "O11Y_CONFIG"]);
}

#[test]
fn o11y_config_names_the_file() {
    let file = toml_file("service_name = \"from-file\"\n");
    let path = file.path().to_str().unwrap();
    let config = Config::builder()
        .env_vars([("O11Y_CONFIG", path)])
        .build()
        .unwrap();
    assert_eq!(config.service_name, "from-file");

    // The builder's choice beats the variable.
    let config = Config::builder()
        .env_vars([("O11Y_CONFIG", path)])
        .no_config_file()
        .build()
        .unwrap();
    assert_ne!(config.service_name, "from-file");
}

// ---------------------------------------------------------------------------
// Precedence
// ---------------------------------------------------------------------------

#[test]
fn defaults_then_file_then_env_then_builder() {
    let file = "\
profile = \"dev\"
service_name = \"file-name\"

[tracing]
sample_rate = 0.5
console_exporter = true

[logging]
format = \"json\"
level = \"info\"
";
    let env = [
        ("O11Y_TRACING_SAMPLE_RATE", "0.25"),
        ("O11Y_LOGGING_LEVEL", "warn"),
        ("O11Y_SERVICE_NAME", "env-name"),
    ];
    let (builder, _file) = with_file(file, &env);
    let config = builder.sample_rate(0.75).build().unwrap();

    assert_eq!(config.tracing.sample_rate, 0.75, "builder beats env");
    assert_eq!(config.logging.level, "warn", "env beats file");
    assert_eq!(config.service_name, "env-name", "env beats file");
    assert_eq!(
        config.logging.format,
        LogFormat::Json,
        "file beats defaults"
    );
    assert!(config.tracing.console_exporter, "file beats defaults");
    assert!(config.tracing.parent_based, "defaults remain");
    assert_eq!(
        config.shutdown_timeout,
        Duration::from_secs(5),
        "defaults remain"
    );
}

#[test]
fn a_bad_value_fails_even_when_overridden() {
    let (builder, _file) = with_file("[tracing]\nsample_rate = 2\n", &[]);
    let err = build_err(builder.sample_rate(0.5));
    assert_eq!(err.key(), Some("tracing.sample_rate"));
    assert!(matches!(err.origin(), Some(Origin::File { .. })));
}

#[test]
fn profile_precedence() {
    let (builder, _file) = with_file("profile = \"prod\"\n", &[]);
    assert_eq!(builder.build().unwrap().profile, Profile::Prod, "file");

    let (builder, _file) = with_file("profile = \"prod\"\n", &[("O11Y_PROFILE", "TEST")]);
    assert_eq!(
        builder.build().unwrap().profile,
        Profile::Test,
        "env beats file"
    );

    let (builder, _file) = with_file("profile = \"prod\"\n", &[("O11Y_PROFILE", "test")]);
    let config = builder.profile(Profile::Dev).build().unwrap();
    assert_eq!(config.profile, Profile::Dev, "builder beats env");

    let config = with_env(&[]).build().unwrap();
    assert_eq!(config.profile, Profile::compiled_default(), "nothing named");
}

#[test]
fn profile_defaults() {
    let dev = with_env(&[]).profile(Profile::Dev).build().unwrap();
    assert_eq!(dev.logging.format, LogFormat::Console);
    assert_eq!(dev.logging.level, "debug");
    assert!(dev.logging.file_enabled);
    assert!(!dev.logging.otlp_enabled);
    assert!(dev.tracing.enabled);
    assert_eq!(dev.tracing.sample_rate, 1.0);
    assert!(dev.tracing.parent_based);
    assert!(!dev.tracing.console_exporter);
    assert!(dev.metrics.enabled);

    let prod = with_env(&[]).profile(Profile::Prod).build().unwrap();
    assert_eq!(prod.logging.format, LogFormat::Json);
    assert_eq!(prod.logging.level, "info");
    assert!(!prod.logging.file_enabled);
    assert!(prod.tracing.enabled);
    assert_eq!(prod.tracing.sample_rate, 0.01);
    assert!(prod.tracing.parent_based);
    assert!(prod.metrics.enabled);

    let test = with_env(&[]).profile(Profile::Test).build().unwrap();
    assert_eq!(test.logging.format, LogFormat::Console);
    assert_eq!(test.logging.level, "warn");
    assert!(!test.logging.file_enabled);
    assert!(!test.tracing.enabled);
    assert_eq!(test.tracing.sample_rate, 1.0);
    assert!(!test.metrics.enabled);

    for config in [&dev, &prod, &test] {
        assert_eq!(config.service_version, None);
        assert_eq!(config.tracing.otlp_endpoint, None);
        assert_eq!(config.tracing.otlp_protocol, OtlpProtocol::Grpc);
        assert_eq!(config.shutdown_timeout, Duration::from_secs(5));
        assert!(config.resource_attributes.is_empty());
    }
}

#[test]
fn service_name_defaults_to_the_executable() {
    let config = with_env(&[]).build().unwrap();
    // This test binary is `config-<hash>`.
    assert!(
        config.service_name.starts_with("config"),
        "{}",
        config.service_name
    );
}

#[test]
fn o11y_variables_beat_their_otel_twins() {
    let both = with_env(&[
        ("OTEL_SERVICE_NAME", "otel-name"),
        ("O11Y_SERVICE_NAME", "o11y-name"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4317"),
        ("O11Y_TRACING_OTLP_ENDPOINT", "http://o11y:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("O11Y_TRACING_OTLP_PROTOCOL", "http"),
        ("RUST_LOG", "trace"),
        ("O11Y_LOGGING_LEVEL", "warn"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
        ("O11Y_TRACING_SAMPLE_RATE", "0.2"),
    ])
    .build()
    .unwrap();
    assert_eq!(both.service_name, "o11y-name");
    assert_eq!(
        both.tracing.otlp_endpoint.as_deref(),
        Some("http://o11y:4317")
    );
    assert_eq!(both.tracing.otlp_protocol, OtlpProtocol::Http);
    assert_eq!(both.logging.level, "warn");
    assert_eq!(both.tracing.sample_rate, 0.2);

    let otel_only = with_env(&[
        ("OTEL_SERVICE_NAME", "otel-name"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("RUST_LOG", "info,hyper=off"),
    ])
    .build()
    .unwrap();
    assert_eq!(otel_only.service_name, "otel-name");
    assert_eq!(
        otel_only.tracing.otlp_endpoint.as_deref(),
        Some("http://collector:4318")
    );
    assert_eq!(otel_only.tracing.otlp_protocol, OtlpProtocol::Http);
    assert_eq!(otel_only.logging.level, "info,hyper=off");
}

#[test]
fn otel_protocol_values() {
    let err = build_err(with_env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]));
    assert_eq!(err.key(), Some("tracing.otlp_protocol"));
    assert_eq!(
        err.origin(),
        Some(env_origin("OTEL_EXPORTER_OTLP_PROTOCOL"))
    );
    assert_mentions(&err, &["\"http/json\"", "grpc or http"]);
}

#[test]
fn each_signal_may_have_its_own_endpoint_and_protocol() {
    let target = |config: &Config, signal| {
        config
            .tracing
            .otlp_target(signal)
            .map(|target| (target.url, target.protocol))
    };
    // The general endpoint: the signal path appended for HTTP only.
    let http = with_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
    ])
    .build()
    .unwrap();
    assert_eq!(
        target(&http, OtlpSignal::Traces),
        Some(("http://collector:4318/v1/traces".into(), OtlpProtocol::Http))
    );
    assert_eq!(
        target(&http, OtlpSignal::Logs),
        Some(("http://collector:4318/v1/logs".into(), OtlpProtocol::Http))
    );
    assert_eq!(
        target(&http, OtlpSignal::Metrics),
        Some(("http://collector:4318/".into(), OtlpProtocol::Grpc)),
        "the signal's own protocol"
    );

    // A signal's own endpoint is used as written, and wins.
    let own = with_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://traces.example.com/custom",
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
    ])
    .build()
    .unwrap();
    assert_eq!(
        target(&own, OtlpSignal::Traces),
        Some((
            "http://traces.example.com/custom".into(),
            OtlpProtocol::Http
        ))
    );
    assert_eq!(
        target(&own, OtlpSignal::Metrics),
        Some(("http://collector:4317".into(), OtlpProtocol::Grpc))
    );

    // Alone, it sends that signal and no other.
    let alone = with_env(&[(
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "http://logs:4318/v1/logs",
    )])
    .build()
    .unwrap();
    assert_eq!(target(&alone, OtlpSignal::Traces), None);
    assert_eq!(
        alone.tracing.signals.logs.endpoint.as_deref(),
        Some("http://logs:4318/v1/logs")
    );

    // In code too, and over the environment's.
    let built = with_env(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://env:4317")])
        .otlp_signal_endpoint(OtlpSignal::Traces, "http://code:4317")
        .otlp_signal_protocol(OtlpSignal::Traces, OtlpProtocol::Grpc)
        .build()
        .unwrap();
    assert_eq!(
        target(&built, OtlpSignal::Traces),
        Some(("http://code:4317".into(), OtlpProtocol::Grpc))
    );

    // Checked like the general ones.
    let err = build_err(with_env(&[(
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "collector:4317",
    )]));
    assert_eq!(
        err.origin(),
        Some(env_origin("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"))
    );
    assert_mentions(&err, &["\"collector:4317\"", "scheme"]);
    let err = build_err(with_env(&[(
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        "http/json",
    )]));
    assert_eq!(
        err.origin(),
        Some(env_origin("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"))
    );
    assert_mentions(&err, &["\"http/json\"", "grpc or http"]);
}

#[test]
fn https_endpoints_need_the_tls_feature() {
    let built = with_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317")]).build();
    if cfg!(feature = "tls") {
        let config = built.unwrap();
        assert_eq!(
            config.tracing.otlp_endpoint.as_deref(),
            Some("https://collector:4317")
        );
    } else {
        let err = built.unwrap_err();
        assert_eq!(
            err.origin(),
            Some(env_origin("OTEL_EXPORTER_OTLP_ENDPOINT"))
        );
        assert_mentions(&err, &["\"https://collector:4317\"", "`tls` feature"]);
    }
}

#[test]
fn otel_resource_attributes() {
    let config = with_env(&[(
        "OTEL_RESOURCE_ATTRIBUTES",
        "service.name=from-attrs,service.version=1.2.3,team=pay%20ments,region=eu",
    )])
    .build()
    .unwrap();
    assert_eq!(config.service_name, "from-attrs");
    assert_eq!(config.service_version.as_deref(), Some("1.2.3"));
    assert_eq!(config.resource_attributes["team"], "pay ments");
    assert_eq!(config.resource_attributes["region"], "eu");
    assert!(!config.resource_attributes.contains_key("service.name"));

    // OTEL_SERVICE_NAME beats service.name in the attributes, as the spec says.
    let config = with_env(&[
        ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"),
        ("OTEL_SERVICE_NAME", "from-var"),
    ])
    .build()
    .unwrap();
    assert_eq!(config.service_name, "from-var");

    // The environment is one source: an explicit name beats
    // `service.name` in either variable of attributes.
    let config = with_env(&[
        ("OTEL_SERVICE_NAME", "from-var"),
        ("O11Y_RESOURCE_ATTRIBUTES", "service.name=from-o11y-attrs"),
    ])
    .build()
    .unwrap();
    assert_eq!(config.service_name, "from-var");

    // Names are percent-decoded like values (`,` and `=` must be encoded).
    let config = with_env(&[("OTEL_RESOURCE_ATTRIBUTES", "my%2Ekey=1,k%3Dx=a%2Cb")])
        .build()
        .unwrap();
    assert_eq!(config.resource_attributes["my.key"], "1");
    assert_eq!(config.resource_attributes["k=x"], "a,b");

    let err = build_err(with_env(&[("OTEL_RESOURCE_ATTRIBUTES", "team=a,broken")]));
    assert_eq!(err.key(), Some("resource_attributes"));
    assert_mentions(&err, &["\"team=a,broken\"", "key=value"]);
}

#[test]
fn resource_attributes_merge_across_sources() {
    let file = "[resource_attributes]\nteam = \"file\"\nregion = \"eu\"\n";
    let (builder, _file) = with_file(
        file,
        &[
            ("OTEL_RESOURCE_ATTRIBUTES", "team=otel,tier=gold"),
            ("O11Y_RESOURCE_ATTRIBUTES", "tier=platinum"),
        ],
    );
    let config = builder.resource_attribute("owner", "me").build().unwrap();
    let attrs: Vec<(&str, &str)> = config
        .resource_attributes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        attrs,
        [
            ("owner", "me"),
            ("region", "eu"),
            ("team", "otel"),
            ("tier", "platinum")
        ]
    );

    let (builder, file) = with_file("[resource_attributes]\nteam = 5\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.key(), Some("resource_attributes"));
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 8)));
}

#[test]
fn otel_sdk_disabled() {
    let file = "[tracing]\nenabled = true\n[logging]\notlp_enabled = true\n[metrics]\notlp_enabled = true\n";
    let (builder, _file) = with_file(file, &[("OTEL_SDK_DISABLED", "true")]);
    let config = builder.build().unwrap();
    assert!(!config.tracing.enabled);
    assert!(!config.logging.otlp_enabled);
    assert!(!config.metrics.otlp_enabled);

    let (builder, _file) = with_file(file, &[("OTEL_SDK_DISABLED", "false")]);
    let config = builder.build().unwrap();
    assert!(config.tracing.enabled);
    assert!(config.logging.otlp_enabled);
    assert!(config.metrics.otlp_enabled);

    // The master switch beats O11Y_* variables and the builder too.
    let builder = with_env(&[
        ("OTEL_SDK_DISABLED", "true"),
        ("O11Y_TRACING_ENABLED", "true"),
        ("O11Y_LOGGING_OTLP_ENABLED", "true"),
    ]);
    let config = builder
        .tracing_enabled(true)
        .metrics_otlp_enabled(true)
        .build()
        .unwrap();
    assert!(!config.tracing.enabled);
    assert!(!config.logging.otlp_enabled);
    assert!(!config.metrics.otlp_enabled);

    // The specification's booleans: only `true`, in any case, is true;
    // anything else is false (and said so on stderr), never an error.
    let (builder, _file) = with_file(file, &[("OTEL_SDK_DISABLED", "TRUE")]);
    assert!(!builder.build().unwrap().tracing.enabled);
    for not_true in ["1", "yes please", "off"] {
        let (builder, _file) = with_file(file, &[("OTEL_SDK_DISABLED", not_true)]);
        let config = builder.build().unwrap();
        assert!(config.tracing.enabled, "{not_true}");
        assert!(config.metrics.otlp_enabled, "{not_true}");
    }
}

#[test]
fn otel_traces_sampler_variants() {
    let cases = [
        ("always_on", None, 1.0, false),
        ("always_off", None, 0.0, false),
        ("traceidratio", Some("0.25"), 0.25, false),
        ("parentbased_always_on", None, 1.0, true),
        ("parentbased_always_off", None, 0.0, true),
        ("parentbased_traceidratio", Some("0.5"), 0.5, true),
        // The argument only matters to the ratio samplers.
        ("always_on", Some("0.3"), 1.0, false),
    ];
    for (sampler, arg, rate, parent_based) in cases {
        let mut env = vec![("OTEL_TRACES_SAMPLER", sampler)];
        env.extend(arg.map(|a| ("OTEL_TRACES_SAMPLER_ARG", a)));
        let config = with_env(&env).profile(Profile::Prod).build().unwrap();
        assert_eq!(config.tracing.sample_rate, rate, "{sampler} {arg:?}");
        assert_eq!(
            config.tracing.parent_based, parent_based,
            "{sampler} {arg:?}"
        );
    }

    // A ratio sampler without an argument keeps the rate configured so far.
    let config = with_env(&[("OTEL_TRACES_SAMPLER", "traceidratio")])
        .profile(Profile::Prod)
        .build()
        .unwrap();
    assert_eq!(config.tracing.sample_rate, 0.01);
    assert!(!config.tracing.parent_based);

    // O11Y_ variables beat the sampler.
    let config = with_env(&[
        ("OTEL_TRACES_SAMPLER", "always_off"),
        ("O11Y_TRACING_PARENT_BASED", "true"),
    ])
    .build()
    .unwrap();
    assert_eq!(config.tracing.sample_rate, 0.0);
    assert!(config.tracing.parent_based);
}

#[test]
fn otel_traces_sampler_errors() {
    let err = build_err(with_env(&[("OTEL_TRACES_SAMPLER", "jaeger_remote")]));
    assert_eq!(err.key(), Some("tracing.sample_rate"));
    assert_eq!(err.origin(), Some(env_origin("OTEL_TRACES_SAMPLER")));
    assert_mentions(
        &err,
        &[
            "\"jaeger_remote\"",
            "always_on, always_off, traceidratio, parentbased_always_on, \
             parentbased_always_off, parentbased_traceidratio",
        ],
    );

    let err = build_err(with_env(&[
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
    ]));
    assert_eq!(err.origin(), Some(env_origin("OTEL_TRACES_SAMPLER_ARG")));
    assert_mentions(&err, &["\"1.5\"", "0.0 to 1.0"]);

    // Out of range is refused even where the sampler does not use it.
    let err = build_err(with_env(&[
        ("OTEL_TRACES_SAMPLER", "always_on"),
        ("OTEL_TRACES_SAMPLER_ARG", "5"),
    ]));
    assert_eq!(err.origin(), Some(env_origin("OTEL_TRACES_SAMPLER_ARG")));
    assert_mentions(&err, &["\"5\"", "0.0 to 1.0"]);
}

#[test]
fn empty_environment_values_count_as_unset() {
    let config = with_env(&[
        ("O11Y_TRACING_SAMPLE_RATE", ""),
        ("OTEL_SERVICE_NAME", ""),
        ("O11Y_TRACING_SAMPEL_RATE", ""),
    ])
    .profile(Profile::Prod)
    .build()
    .unwrap();
    assert_eq!(config.tracing.sample_rate, 0.01);
}

// ---------------------------------------------------------------------------
// Log file path
// ---------------------------------------------------------------------------

#[test]
fn log_file_path_defaults_under_xdg_state_home() {
    let config = with_env(&[
        ("XDG_STATE_HOME", "/srv/state"),
        ("HOME", "/home/u"),
        ("O11Y_SERVICE_NAME", "checkout"),
    ])
    .build()
    .unwrap();
    assert_eq!(
        config.logging.file_path,
        Path::new("/srv/state/o11y/checkout/app.log")
    );
}

#[test]
fn log_file_path_falls_back_to_home_and_follows_the_final_service_name() {
    let config = with_env(&[("HOME", "/home/u"), ("O11Y_SERVICE_NAME", "env-name")])
        .service_name("builder-name")
        .build()
        .unwrap();
    assert_eq!(
        config.logging.file_path,
        Path::new("/home/u/.local/state/o11y/builder-name/app.log")
    );

    // A relative XDG_STATE_HOME is ignored, as the XDG spec says.
    let config = with_env(&[("XDG_STATE_HOME", "rel"), ("HOME", "/home/u")])
        .service_name("svc")
        .build()
        .unwrap();
    assert_eq!(
        config.logging.file_path,
        Path::new("/home/u/.local/state/o11y/svc/app.log")
    );
}

#[test]
fn log_file_path_set_explicitly_wins() {
    let config = with_env(&[
        ("XDG_STATE_HOME", "/srv/state"),
        ("O11Y_LOGGING_FILE_PATH", "/var/log/app.jsonl"),
    ])
    .build()
    .unwrap();
    assert_eq!(config.logging.file_path, Path::new("/var/log/app.jsonl"));

    let config = with_env(&[("O11Y_LOGGING_FILE_PATH", "/var/log/app.jsonl")])
        .log_file_path("/tmp/b.log")
        .build()
        .unwrap();
    assert_eq!(config.logging.file_path, Path::new("/tmp/b.log"));
}

#[test]
fn every_builder_setter_lands_in_the_config() {
    let config = with_env(&[])
        .profile(Profile::Test)
        .service_name("svc")
        .service_version("2.0.0")
        .resource_attribute("team", "core")
        .shutdown_timeout(Duration::from_secs(30))
        .tracing_enabled(true)
        .otlp_endpoint("http://localhost:4318")
        .otlp_protocol(OtlpProtocol::Http)
        .sample_rate(0.3)
        .parent_based(false)
        .console_exporter(true)
        .log_format(LogFormat::Json)
        .log_level("info,sqlx=warn")
        .log_file_enabled(true)
        .log_file_path("/tmp/svc.log")
        .log_otlp_enabled(true)
        .metrics_enabled(true)
        .metrics_otlp_enabled(true)
        .build()
        .unwrap();
    assert_eq!(config.profile, Profile::Test);
    assert_eq!(config.service_name, "svc");
    assert_eq!(config.service_version.as_deref(), Some("2.0.0"));
    assert_eq!(config.resource_attributes["team"], "core");
    assert_eq!(config.shutdown_timeout, Duration::from_secs(30));
    assert!(config.tracing.enabled);
    assert_eq!(
        config.tracing.otlp_endpoint.as_deref(),
        Some("http://localhost:4318")
    );
    assert_eq!(config.tracing.otlp_protocol, OtlpProtocol::Http);
    assert_eq!(config.tracing.sample_rate, 0.3);
    assert!(!config.tracing.parent_based);
    assert!(config.tracing.console_exporter);
    assert_eq!(config.logging.format, LogFormat::Json);
    assert_eq!(config.logging.level, "info,sqlx=warn");
    assert!(config.logging.file_enabled);
    assert_eq!(config.logging.file_path, Path::new("/tmp/svc.log"));
    assert!(config.logging.otlp_enabled);
    assert!(config.metrics.enabled);
    assert!(config.metrics.otlp_enabled);
}

// ---------------------------------------------------------------------------
// [metrics]: endpoint, listen, series_cap, allow_from, bearer_token, otlp_interval
// ---------------------------------------------------------------------------

fn nets(list: &[&str]) -> Vec<o11y::config::IpNet> {
    list.iter().map(|n| n.parse().unwrap()).collect()
}

#[test]
fn metrics_defaults() {
    for profile in Profile::ALL {
        let config = with_env(&[]).profile(profile).build().unwrap();
        let metrics = &config.metrics;
        assert_eq!(metrics.endpoint, "/metrics");
        assert_eq!(metrics.listen, "127.0.0.1:9464".parse().unwrap());
        assert_eq!(metrics.series_cap, 2000);
        assert_eq!(metrics.series_cap, o11y::metrics::DEFAULT_SERIES_CAP);
        assert!(metrics.allow_from.is_empty());
        assert_eq!(metrics.bearer_token, None);
        let interval = if profile == Profile::Dev { 10 } else { 60 };
        assert_eq!(
            metrics.otlp_interval,
            Duration::from_secs(interval),
            "{profile}"
        );
    }
}

#[test]
fn metrics_endpoint_from_every_source() {
    let config = with_env(&[("O11Y_METRICS_ENDPOINT", "/internal/metrics")])
        .build()
        .unwrap();
    assert_eq!(config.metrics.endpoint, "/internal/metrics");
    let (builder, _file) = with_file("[metrics]\nendpoint = \"/m\"\n", &[]);
    assert_eq!(builder.build().unwrap().metrics.endpoint, "/m");
    let config = with_env(&[]).metrics_endpoint("/prom").build().unwrap();
    assert_eq!(config.metrics.endpoint, "/prom");
}

#[test]
fn metrics_endpoint_must_be_a_plain_path() {
    let err = build_err(with_env(&[("O11Y_METRICS_ENDPOINT", "metrics")]));
    assert_eq!(err.key(), Some("metrics.endpoint"));
    assert_eq!(err.origin(), Some(env_origin("O11Y_METRICS_ENDPOINT")));
    assert_eq!(
        err.to_string(),
        "invalid metrics.endpoint = \"metrics\" (from environment variable O11Y_METRICS_ENDPOINT): \
         expected a URL path starting with /, like \"/metrics\", made of letters, digits and \
         - . _ ~ / (no query, no spaces); it does not start with /"
    );
    let err = build_err(with_env(&[(
        "O11Y_METRICS_ENDPOINT",
        "/metrics?format=prom",
    )]));
    assert_mentions(&err, &["\"/metrics?format=prom\"", "'?' is not allowed"]);
    let (builder, file) = with_file("[metrics]\nendpoint = \"/my metrics\"\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 12)));
    assert_mentions(&err, &["\"/my metrics\"", "it contains whitespace"]);
    let err = build_err(with_env(&[]).metrics_endpoint("/{id}"));
    assert_eq!(err.origin(), Some(Origin::Builder));
    assert_mentions(&err, &["'{' is not allowed"]);
}

#[test]
fn metrics_listen_from_every_source() {
    let config = with_env(&[("O11Y_METRICS_LISTEN", "0.0.0.0:9100")])
        .build()
        .unwrap();
    assert_eq!(config.metrics.listen, "0.0.0.0:9100".parse().unwrap());
    let (builder, _file) = with_file("[metrics]\nlisten = \"[::1]:9464\"\n", &[]);
    assert_eq!(
        builder.build().unwrap().metrics.listen,
        "[::1]:9464".parse().unwrap()
    );
    let addr = "127.0.0.1:1234".parse().unwrap();
    assert_eq!(
        with_env(&[])
            .metrics_listen(addr)
            .build()
            .unwrap()
            .metrics
            .listen,
        addr
    );
}

#[test]
fn metrics_listen_needs_an_ip_and_a_port() {
    let err = build_err(with_env(&[("O11Y_METRICS_LISTEN", "localhost:9464")]));
    assert_eq!(err.key(), Some("metrics.listen"));
    assert_eq!(err.value(), Some("localhost:9464"));
    assert_mentions(
        &err,
        &["\"127.0.0.1:9464\"", "a host name is not allowed here"],
    );
    let err = build_err(with_env(&[("O11Y_METRICS_LISTEN", "127.0.0.1")]));
    assert_mentions(&err, &["the port is missing"]);
    let (builder, file) = with_file("[metrics]\nlisten = 9464\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 10)));
    assert_mentions(&err, &["\"9464\"", "found a TOML integer"]);
}

#[test]
fn metrics_series_cap_from_every_source() {
    let config = with_env(&[("O11Y_METRICS_SERIES_CAP", "500")])
        .build()
        .unwrap();
    assert_eq!(config.metrics.series_cap, 500);
    let (builder, _file) = with_file("[metrics]\nseries_cap = 10_000\n", &[]);
    assert_eq!(builder.build().unwrap().metrics.series_cap, 10_000);
    let (builder, _file) = with_file("[metrics]\nseries_cap = \"7\"\n", &[]);
    assert_eq!(builder.build().unwrap().metrics.series_cap, 7);
    assert_eq!(
        with_env(&[])
            .metrics_series_cap(1)
            .build()
            .unwrap()
            .metrics
            .series_cap,
        1
    );
}

#[test]
fn metrics_series_cap_is_a_whole_number_of_at_least_one() {
    for bad in ["0", "-5", "many", "2.5"] {
        let err = build_err(with_env(&[("O11Y_METRICS_SERIES_CAP", bad)]));
        assert_eq!(err.key(), Some("metrics.series_cap"));
        assert_mentions(
            &err,
            &[&format!("\"{bad}\""), "a whole number of at least 1"],
        );
    }
    let (builder, file) = with_file("[metrics]\nseries_cap = 2.5\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 14)));
    assert_mentions(&err, &["\"2.5\"", "found a TOML float"]);
    let err = build_err(with_env(&[]).metrics_series_cap(0));
    assert_eq!(err.origin(), Some(Origin::Builder));
}

#[test]
fn metrics_allow_from_from_every_source() {
    let config = with_env(&[("O11Y_METRICS_ALLOW_FROM", "127.0.0.1/32, 10.0.0.0/8,::1")])
        .build()
        .unwrap();
    assert_eq!(
        config.metrics.allow_from,
        nets(&["127.0.0.1/32", "10.0.0.0/8", "::1/128"])
    );

    let (builder, _file) = with_file(
        "[metrics]\nallow_from = [\"192.168.0.0/16\", \"127.0.0.1\"]\n",
        &[],
    );
    let config = builder.build().unwrap();
    assert_eq!(
        config.metrics.allow_from,
        nets(&["192.168.0.0/16", "127.0.0.1/32"])
    );

    let (builder, _file) = with_file("[metrics]\nallow_from = \"10.0.0.0/8,fd00::/8\"\n", &[]);
    let config = builder.build().unwrap();
    assert_eq!(config.metrics.allow_from, nets(&["10.0.0.0/8", "fd00::/8"]));

    // The environment replaces the file's list, it does not add to it.
    let (builder, _file) = with_file(
        "[metrics]\nallow_from = [\"192.168.0.0/16\"]\n",
        &[("O11Y_METRICS_ALLOW_FROM", "10.1.0.0/16")],
    );
    assert_eq!(
        builder.build().unwrap().metrics.allow_from,
        nets(&["10.1.0.0/16"])
    );

    let config = with_env(&[])
        .metrics_allow_from(nets(&["10.0.0.0/8"]))
        .build()
        .unwrap();
    assert_eq!(config.metrics.allow_from, nets(&["10.0.0.0/8"]));
}

#[test]
fn metrics_allow_from_refuses_what_is_not_a_network() {
    let err = build_err(with_env(&[(
        "O11Y_METRICS_ALLOW_FROM",
        "10.0.0.0/8,localhost",
    )]));
    assert_eq!(err.key(), Some("metrics.allow_from"));
    assert_eq!(err.origin(), Some(env_origin("O11Y_METRICS_ALLOW_FROM")));
    assert_mentions(
        &err,
        &[
            "\"10.0.0.0/8,localhost\"",
            "CIDR notation",
            "\"localhost\" is not an IP network or address",
        ],
    );
    let err = build_err(with_env(&[("O11Y_METRICS_ALLOW_FROM", "10.0.0.0/40")]));
    assert_mentions(&err, &["\"10.0.0.0/40\" is not an IP network"]);

    // In an array, the error points at the bad item.
    let (builder, file) = with_file("[metrics]\nallow_from = [\"10.0.0.0/8\", \"nope\"]\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 29)));
    assert_eq!(err.value(), Some("nope"));
    let (builder, file) = with_file("[metrics]\nallow_from = [\"10.0.0.0/8\", 7]\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 29)));
    assert_mentions(&err, &["found a TOML integer in the array"]);
}

#[test]
fn metrics_bearer_token_from_every_source() {
    let config = with_env(&[("O11Y_METRICS_BEARER_TOKEN", "from-env")])
        .build()
        .unwrap();
    assert_eq!(config.metrics.bearer_token.as_deref(), Some("from-env"));
    let (builder, _file) = with_file("[metrics]\nbearer_token = \"from-file\"\n", &[]);
    assert_eq!(
        builder.build().unwrap().metrics.bearer_token.as_deref(),
        Some("from-file")
    );
    let config = with_env(&[])
        .metrics_bearer_token("from-code")
        .build()
        .unwrap();
    assert_eq!(config.metrics.bearer_token.as_deref(), Some("from-code"));
}

#[test]
fn metrics_bearer_token_is_never_printed() {
    let config = with_env(&[("O11Y_METRICS_BEARER_TOKEN", "hunter2-s3cret")])
        .build()
        .unwrap();
    for shown in [
        format!("{config:?}"),
        format!("{:?}", config.metrics),
        format!("{config:#?}"),
    ] {
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    // Nor by the builder, whose variables given in code show by name only.
    let builder = with_env(&[("O11Y_METRICS_BEARER_TOKEN", "hunter2-env")])
        .metrics_bearer_token("hunter2-code")
        .service_name("checkout");
    let shown = format!("{builder:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("O11Y_METRICS_BEARER_TOKEN"), "{shown}");
    assert!(shown.contains("service_name=checkout"), "{shown}");

    let (builder, file) = with_file("[metrics]\nbearer_token = \"hunter2 s3cret\"\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.key(), Some("metrics.bearer_token"));
    assert_eq!(err.value(), Some("***"));
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 16)));
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
    assert_mentions(&err, &["visible ASCII", "it contains whitespace"]);

    let (builder, _file) = with_file("[metrics]\nbearer_token = \"\"\n", &[]);
    assert_mentions(
        &build_err(builder),
        &["metrics.bearer_token", "it is empty"],
    );
    let (builder, _file) = with_file("[metrics]\nbearer_token = 12345\n", &[]);
    let err = build_err(builder);
    assert!(!err.to_string().contains("12345"), "{err}");
    let err = build_err(with_env(&[]).metrics_bearer_token("tab\there"));
    assert_eq!(err.origin(), Some(Origin::Builder));
    assert!(!err.to_string().contains("tab"), "{err}");
    let err = build_err(with_env(&[("O11Y_METRICS_BEARER_TOKEN", "café-secret")]));
    assert!(!err.to_string().contains("secret"), "{err}");
    assert_mentions(&err, &["non-ASCII"]);
}

#[test]
fn metrics_otlp_interval_from_every_source() {
    let config = with_env(&[("O11Y_METRICS_OTLP_INTERVAL", "30s")])
        .build()
        .unwrap();
    assert_eq!(config.metrics.otlp_interval, Duration::from_secs(30));
    let (builder, _file) = with_file("[metrics]\notlp_interval = \"1m\"\n", &[]);
    assert_eq!(
        builder.build().unwrap().metrics.otlp_interval,
        Duration::from_secs(60)
    );
    let (builder, _file) = with_file("[metrics]\notlp_interval = 5000\n", &[]);
    assert_eq!(
        builder.build().unwrap().metrics.otlp_interval,
        Duration::from_secs(5)
    );
    let config = with_env(&[])
        .metrics_otlp_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    assert_eq!(config.metrics.otlp_interval, Duration::from_secs(3600));
}

#[test]
fn metrics_otlp_interval_is_between_a_second_and_an_hour() {
    for bad in ["500ms", "0s", "2h", "often"] {
        let err = build_err(with_env(&[("O11Y_METRICS_OTLP_INTERVAL", bad)]));
        assert_eq!(err.key(), Some("metrics.otlp_interval"));
        assert_mentions(&err, &[&format!("\"{bad}\""), "from 1s to 1h"]);
    }
    let (builder, file) = with_file("[metrics]\notlp_interval = 30\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 17)));
    assert_mentions(&err, &["\"30\"", "whole number of milliseconds"]);
    let err = build_err(with_env(&[]).metrics_otlp_interval(Duration::from_millis(999)));
    assert_eq!(err.origin(), Some(Origin::Builder));
}

#[test]
fn metrics_keys_have_did_you_mean() {
    let err = build_err(with_env(&[("O11Y_METRICS_ALLOWFROM", "10.0.0.0/8")]));
    assert_eq!(err.suggestion(), Some("O11Y_METRICS_ALLOW_FROM"));
    let (builder, _file) = with_file("[metrics]\nbearer = \"x\"\n", &[]);
    assert_eq!(
        build_err(builder).suggestion(),
        Some("metrics.bearer_token")
    );
}

// ---------------------------------------------------------------------------
// [http]: access_log, exclude_paths

#[test]
fn http_defaults_log_every_request_and_exclude_probes() {
    for profile in Profile::ALL {
        let config = with_env(&[]).profile(profile).build().unwrap();
        assert!(config.http.access_log, "{profile}");
        assert_eq!(
            config.http.exclude_paths,
            ["/metrics", "/health", "/healthz", "/ready", "/favicon.ico"],
            "{profile}"
        );
    }
}

#[test]
fn http_keys_from_every_source() {
    let config = with_env(&[
        ("O11Y_HTTP_ACCESS_LOG", "off"),
        ("O11Y_HTTP_EXCLUDE_PATHS", " /livez, /internal/ping "),
    ])
    .build()
    .unwrap();
    assert!(!config.http.access_log);
    assert_eq!(config.http.exclude_paths, ["/livez", "/internal/ping"]);

    let (builder, _file) = with_file(
        "[http]\naccess_log = false\nexclude_paths = [\"/a\", \"/b\"]\n",
        &[],
    );
    let config = builder.build().unwrap();
    assert!(!config.http.access_log);
    assert_eq!(config.http.exclude_paths, ["/a", "/b"]);

    // An empty array observes every path.
    let (builder, _file) = with_file("[http]\nexclude_paths = []\n", &[]);
    assert!(builder.build().unwrap().http.exclude_paths.is_empty());

    // The environment replaces the file's list; the builder replaces both.
    let (builder, _file) = with_file(
        "[http]\nexclude_paths = [\"/a\"]\n",
        &[("O11Y_HTTP_EXCLUDE_PATHS", "/b")],
    );
    assert_eq!(builder.build().unwrap().http.exclude_paths, ["/b"]);
    let config = with_env(&[("O11Y_HTTP_EXCLUDE_PATHS", "/b")])
        .http_exclude_paths(["/c"])
        .http_access_log(false)
        .build()
        .unwrap();
    assert_eq!(config.http.exclude_paths, ["/c"]);
    assert!(!config.http.access_log);
}

#[test]
fn http_exclude_paths_refuses_what_is_not_a_path() {
    let err = build_err(with_env(&[("O11Y_HTTP_EXCLUDE_PATHS", "/health,ready")]));
    assert_eq!(err.key(), Some("http.exclude_paths"));
    assert_eq!(err.origin(), Some(env_origin("O11Y_HTTP_EXCLUDE_PATHS")));
    assert_mentions(
        &err,
        &[
            "\"/health,ready\"",
            "\"ready\" is not a path",
            "does not start with /",
        ],
    );

    // In an array, the error points at the bad item.
    let (builder, file) = with_file("[http]\nexclude_paths = [\"/ok\", \"/a b\"]\n", &[]);
    let err = build_err(builder);
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 25)));
    assert_mentions(&err, &["it contains whitespace"]);

    let err = build_err(with_env(&[]).http_exclude_paths(["/x?y=1"]));
    assert_eq!(err.origin(), Some(Origin::Builder));
    assert_mentions(&err, &["\"/x?y=1\" is not a path", "'?' is not allowed"]);

    let err = build_err(with_env(&[("O11Y_HTTP_ACCESS_LOG", "sometimes")]));
    assert_eq!(err.key(), Some("http.access_log"));
}

// ---------------------------------------------------------------------------
// db.*
// ---------------------------------------------------------------------------

#[test]
fn db_defaults_follow_the_profile() {
    use o11y::config::NPlusOneMode;
    for (profile, min) in [
        (Profile::Dev, Duration::ZERO),
        (Profile::Prod, Duration::from_millis(50)),
        (Profile::Test, Duration::ZERO),
    ] {
        let config = with_env(&[]).profile(profile).build().expect("valid");
        let n_plus_one = &config.db.n_plus_one;
        assert_eq!(n_plus_one.threshold, 5, "{profile}");
        assert_eq!(n_plus_one.min_duration, min, "{profile}");
        assert_eq!(n_plus_one.mode, NPlusOneMode::Warn, "{profile}");
        assert!(n_plus_one.allowlist.is_empty(), "{profile}");
        assert!(!config.db.capture_parameters, "{profile}");
    }
}

#[test]
fn db_keys_from_a_nested_section_the_environment_and_the_builder() {
    use o11y::config::NPlusOneMode;
    let (builder, _file) = with_file(
        "[db]\ncapture_parameters = true\n\n[db.n_plus_one]\nthreshold = 3\nmin_duration = \"20ms\"\n\
         allowlist = [\"warm_*\", \"SELECT a, b FROM flags WHERE name = ?\"]\nmode = \"raise\"\n",
        &[("O11Y_DB_N_PLUS_ONE_THRESHOLD", "8")],
    );
    let config = builder.build().expect("valid");
    let n_plus_one = &config.db.n_plus_one;
    assert_eq!(
        n_plus_one.threshold, 8,
        "the environment wins over the file"
    );
    assert_eq!(n_plus_one.min_duration, Duration::from_millis(20));
    assert_eq!(
        n_plus_one.allowlist,
        ["warm_*", "SELECT a, b FROM flags WHERE name = ?"],
        "items keep their commas"
    );
    assert_eq!(n_plus_one.mode, NPlusOneMode::Raise);

    assert!(config.db.capture_parameters);

    // An element of an array is one item, separator or not.
    let (builder, _file) = with_file(
        "[db.n_plus_one]\nallowlist = [\"SELECT 1; SELECT 2\", \"warm_cache\"]\n",
        &[],
    );
    assert_eq!(
        builder.build().expect("valid").db.n_plus_one.allowlist,
        ["SELECT 1; SELECT 2", "warm_cache"]
    );
    let (builder, _file) = with_file("[http]\nexclude_paths = [\"/a,/b\"]\n", &[]);
    assert_mentions(&build_err(builder), &["\"/a,/b\" is not a path"]);
    let (builder, _file) = with_file("[metrics]\nallow_from = [\"10.0.0.0/8,127.0.0.1\"]\n", &[]);
    assert_mentions(
        &build_err(builder),
        &["\"10.0.0.0/8,127.0.0.1\"", "not an IP network"],
    );

    let config = with_env(&[("O11Y_DB_N_PLUS_ONE_ALLOWLIST", "load_flags; SELECT 1, 2")])
        .db_n_plus_one_mode(NPlusOneMode::Off)
        .build()
        .expect("valid");
    assert_eq!(
        config.db.n_plus_one.allowlist,
        ["load_flags", "SELECT 1, 2"]
    );
    assert_eq!(config.db.n_plus_one.mode, NPlusOneMode::Off);
}

#[test]
fn db_values_out_of_range_name_the_key() {
    let err = build_err(with_env(&[("O11Y_DB_N_PLUS_ONE_THRESHOLD", "1")]));
    assert_eq!(err.key(), Some("db.n_plus_one.threshold"));
    assert_mentions(&err, &["a whole number from 2"]);
    let err = build_err(with_env(&[("O11Y_DB_N_PLUS_ONE_MODE", "panic")]));
    assert_eq!(err.key(), Some("db.n_plus_one.mode"));
    assert_mentions(&err, &["warn", "raise", "off"]);
    let (builder, file) = with_file("[db.n_plus_one]\nthresold = 3\n", &[]);
    let err = build_err(builder);
    assert_mentions(
        &err,
        &[
            "db.n_plus_one.thresold",
            "did you mean db.n_plus_one.threshold?",
        ],
    );
    drop(file);
}

// ---------------------------------------------------------------------------
// [redaction], [limits], http.capture_headers

#[test]
fn redaction_is_on_in_every_profile_and_limits_are_opentelemetrys() {
    for profile in Profile::ALL {
        let config = with_env(&[]).profile(profile).build().unwrap();
        assert!(config.redaction.enabled, "{profile}");
        assert_eq!(config.redaction.replacement, "[REDACTED]", "{profile}");
        assert!(config.redaction.patterns.is_empty(), "{profile}");
        assert!(config.http.capture_headers.is_empty(), "{profile}");
        assert_eq!(config.limits.attribute_value_length, None, "{profile}");
        assert_eq!(config.limits.span_attribute_count, 128, "{profile}");
        assert_eq!(config.limits.span_event_count, 128, "{profile}");
        assert_eq!(config.limits.span_link_count, 128, "{profile}");
    }
}

#[test]
fn redaction_and_limit_keys_from_every_source() {
    use o11y::config::{BuiltinPattern, RedactionPattern};

    let (builder, _file) = with_file(
        "[redaction]\nenabled = true\nkeys = [\"order_note\"]\nallow_keys = [\"token_count\"]\n\
         patterns = [\"-email\", \"+phone\", \"re:ord-[0-9]{4,6}\"]\nreplacement = \"***\"\n\
         [limits]\nattribute_value_length = 256\nspan_event_count = 16\n\
         [http]\ncapture_headers = [\"X-Tenant\", \"authorization\"]\n",
        &[],
    );
    let config = builder.build().unwrap();
    assert_eq!(config.redaction.keys, ["order_note"]);
    assert_eq!(config.redaction.allow_keys, ["token_count"]);
    assert_eq!(
        config.redaction.patterns,
        [
            RedactionPattern::Off(BuiltinPattern::Email),
            RedactionPattern::On(BuiltinPattern::Phone),
            // A comma inside: arrays need no separator.
            RedactionPattern::Custom("ord-[0-9]{4,6}".to_owned()),
        ]
    );
    assert_eq!(config.redaction.replacement, "***");
    assert_eq!(config.limits.attribute_value_length, Some(256));
    assert_eq!(config.limits.span_event_count, 16);
    assert_eq!(config.http.capture_headers, ["x-tenant", "authorization"]);

    // The standard variables, below their O11Y_ twins.
    let config = with_env(&[
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64"),
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "32"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "8"),
        ("OTEL_SPAN_LINK_COUNT_LIMIT", "4"),
        ("O11Y_LIMITS_SPAN_LINK_COUNT", "2"),
        ("O11Y_REDACTION_ENABLED", "off"),
    ])
    .build()
    .unwrap();
    assert_eq!(config.limits.attribute_value_length, Some(64));
    assert_eq!(config.limits.span_attribute_count, 32);
    assert_eq!(config.limits.span_event_count, 8);
    assert_eq!(config.limits.span_link_count, 2);
    assert!(!config.redaction.enabled);

    let config = with_env(&[("O11Y_REDACTION_PATTERNS", "-jwt; re:a,b")])
        .redaction_keys(["ticket"])
        .redaction_replacement("<gone>")
        .limits_attribute_value_length(10)
        .http_capture_headers(["x-request-source"])
        .build()
        .unwrap();
    assert_eq!(
        config.redaction.patterns,
        [
            RedactionPattern::Off(BuiltinPattern::Jwt),
            RedactionPattern::Custom("a,b".to_owned()),
        ]
    );
    assert_eq!(config.redaction.keys, ["ticket"]);
    assert_eq!(config.redaction.replacement, "<gone>");
    assert_eq!(config.limits.attribute_value_length, Some(10));
    assert_eq!(config.http.capture_headers, ["x-request-source"]);
}

#[test]
fn a_bad_redaction_pattern_is_named_where_it_came_from() {
    use o11y::config::RedactionPattern;

    let err = build_err(with_env(&[(
        "O11Y_REDACTION_PATTERNS",
        "-email;re:(unclosed",
    )]));
    assert_eq!(err.key(), Some("redaction.patterns"));
    assert_eq!(err.origin(), Some(env_origin("O11Y_REDACTION_PATTERNS")));
    assert_mentions(
        &err,
        &[
            "\"re:(unclosed\" is not a valid regular expression",
            "unclosed group",
        ],
    );

    let (builder, file) = with_file("[redaction]\npatterns = [\"+phone\", \"-emial\"]\n", &[]);
    let err = build_err(builder);
    // At the item itself.
    assert_eq!(err.origin(), Some(file_origin(file.path(), 2, 23)));
    assert_mentions(&err, &["\"-emial\" names no built-in pattern", "email, "]);

    let err =
        build_err(with_env(&[]).redaction_patterns([RedactionPattern::Custom("x?".to_owned())]));
    assert_eq!(err.origin(), Some(Origin::Builder));
    assert_mentions(&err, &["\"re:x?\" matches empty text"]);

    // init() refuses a pattern put in a configuration after it was built.
    let mut config = with_env(&[]).build().unwrap();
    config
        .redaction
        .patterns
        .push(RedactionPattern::Custom("[z-a]".to_owned()));
    let err = o11y::init_with(config).expect_err("a bad pattern");
    assert!(
        err.to_string()
            .starts_with("invalid redaction.patterns = \"re:[z-a]\""),
        "{err}"
    );
}

#[test]
fn bad_names_and_limits_are_refused() {
    let err = build_err(with_env(&[(
        "O11Y_HTTP_CAPTURE_HEADERS",
        "x-tenant,bad header",
    )]));
    assert_eq!(err.key(), Some("http.capture_headers"));
    assert_mentions(&err, &["\"bad header\" is not a header name"]);
    let err = build_err(with_env(&[("O11Y_REDACTION_KEYS", "ticket,--")]));
    assert_eq!(err.key(), Some("redaction.keys"));
    assert_mentions(&err, &["\"--\" has no letter or digit"]);
    let err = build_err(with_env(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "0")]));
    assert_eq!(err.key(), Some("limits.attribute_value_length"));
    assert_eq!(
        err.origin(),
        Some(env_origin("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"))
    );
    assert_mentions(&err, &["at least 1", "unset for no limit"]);
    let err = build_err(with_env(&[("OTEL_SPAN_EVENT_COUNT_LIMIT", "-1")]));
    assert_eq!(err.key(), Some("limits.span_event_count"));
}
