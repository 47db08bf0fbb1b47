use super::*;

#[tokio::test]
async fn a_collector_that_never_answers_times_out() {
    // Accepts connections and reads nothing: the request never gets an answer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    for protocol in [OtlpProtocol::Http, OtlpProtocol::Grpc] {
        let url = match protocol {
            OtlpProtocol::Http => format!("{endpoint}/v1/traces"),
            OtlpProtocol::Grpc => endpoint.clone(),
        };
        let transport = Transport::new(&OtlpTarget { url, protocol }, TRACES)
            .unwrap()
            .with_timeout(Duration::from_millis(200));
        let started = std::time::Instant::now();
        let error = transport
            .send::<ExportTraceServiceResponse>(Vec::new())
            .await
            .unwrap_err();
        assert_eq!(error, "timed out after 200ms", "{protocol:?}");
        assert!(started.elapsed() < EXPORT_TIMEOUT, "{protocol:?}");
    }
    silent.abort();
}

#[test]
fn the_signal_timeout_wins_then_the_general_one_then_the_default() {
    assert_eq!(timeout(TRACES, from(&[])), EXPORT_TIMEOUT);
    let both = [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "750"),
    ];
    assert_eq!(timeout(TRACES, from(&both)), Duration::from_millis(750));
    assert_eq!(timeout(METRICS, from(&both)), Duration::from_millis(2500));
    // Not milliseconds: the next variable applies.
    let invalid = [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
        ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "5s"),
    ];
    assert_eq!(
        timeout(METRICS, from(&invalid)),
        Duration::from_millis(3000)
    );
    let zero = [("OTEL_EXPORTER_OTLP_TIMEOUT", "0")];
    assert_eq!(timeout(TRACES, from(&zero)), EXPORT_TIMEOUT);
    // Empty is unset: the next variable applies, and nothing is said.
    let empty = [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "1200"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", " "),
    ];
    assert_eq!(timeout(TRACES, from(&empty)), Duration::from_millis(1200));
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn https_endpoints_get_tls_and_http_ones_do_not() {
    assert!(is_https("https://collector:4317"));
    assert!(is_https("HTTPS://collector:4318/v1/traces"));
    assert!(!is_https("http://collector:4317"));
    // The system's (or Mozilla's) roots: the transports build over
    // either protocol. (Nothing listens there: they connect lazily.)
    for (url, protocol) in [
        ("https://127.0.0.1:1", OtlpProtocol::Grpc),
        ("https://127.0.0.1:1/v1/traces", OtlpProtocol::Http),
    ] {
        let target = OtlpTarget {
            url: url.into(),
            protocol,
        };
        let transport = Transport::new(&target, TRACES).expect(url);
        let client = &transport.client;
        match protocol {
            OtlpProtocol::Grpc => assert!(matches!(client, Client::Grpc(_))),
            OtlpProtocol::Http => assert!(matches!(client, Client::Https { .. })),
        }
    }
    assert!(!super::super::tls::default_roots().is_empty());
}

#[cfg(not(feature = "tls"))]
#[tokio::test]
async fn without_the_tls_feature_an_https_endpoint_is_refused() {
    let target = OtlpTarget {
        url: "https://collector.example.com:4317".into(),
        protocol: OtlpProtocol::Grpc,
    };
    let error = Transport::new(&target, TRACES).err().expect("refused");
    assert!(error.contains("`tls` feature"), "{error}");
}

#[test]
fn headers_are_pairs_with_percent_encoded_values() {
    let parsed: Vec<_> =
        parse_headers(" api-key = s3cr%C3%A9t ,x-tenant=a%2Cb,=skipped,empty=,bad").collect();
    assert_eq!(
        parsed,
        [
            ("api-key".to_owned(), "s3cr\u{e9}t".to_owned()),
            ("x-tenant".to_owned(), "a,b".to_owned())
        ]
    );
    // A value that is not valid percent-encoding is kept as written.
    let kept: Vec<_> = parse_headers("k=100%,k2=%+5x").collect();
    assert_eq!(
        kept,
        [
            ("k".to_owned(), "100%".to_owned()),
            ("k2".to_owned(), "%+5x".to_owned())
        ]
    );
}
