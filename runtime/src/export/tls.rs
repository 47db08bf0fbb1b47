//! TLS to `https://` OTLP endpoints (feature `tls`), for every signal:
//! rustls with the ring provider (or the process-wide provider the
//! application installed), the roots and client certificate the standard
//! `OTEL_EXPORTER_OTLP_*CERTIFICATE*` variables name, else the system's
//! roots, else Mozilla's; as tonic's TLS config for gRPC, and as a hyper
//! client for HTTP/protobuf.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{ClientTlsConfig, Identity};

use super::transport::Signal;

/// hyper's client over rustls ([`Tls::https_connector`]).
pub(crate) type HttpsClient =
    hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The TLS settings of one signal's requests to an `https://` endpoint,
/// for tonic ([`grpc`](Self::grpc)) and for hyper
/// ([`https_connector`](Self::https_connector)); see [`settings`].
#[derive(Debug)]
pub(crate) struct Tls {
    grpc: ClientTlsConfig,
    rustls: rustls::ClientConfig,
}

impl Tls {
    /// hyper's client to `https://` URLs, over [`https_connector`](Self::https_connector).
    pub(crate) fn https_client(&self) -> HttpsClient {
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(self.https_connector())
    }

    /// For tonic's `Endpoint::tls_config`.
    pub(crate) fn grpc(&self) -> ClientTlsConfig {
        self.grpc.clone()
    }

    /// hyper's connector to `https://` URLs, HTTP/1.1 over rustls.
    pub(crate) fn https_connector(&self) -> HttpsConnector<HttpConnector> {
        HttpsConnectorBuilder::new()
            .with_tls_config(self.rustls.clone())
            .https_only()
            .enable_http1()
            .build()
    }
}

/// The TLS settings of `signal`'s requests to an `https://` endpoint, from
/// the standard variables (the signal's own winning over the general one),
/// each naming a PEM file:
/// - `OTEL_EXPORTER_OTLP_CERTIFICATE`: the CA certificates a collector's
///   certificate must chain to, instead of the system's root certificates
///   (or, on a system without any, Mozilla's, from `webpki-roots`);
/// - `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `OTEL_EXPORTER_OTLP_CLIENT_KEY`:
///   the certificate chain and private key presented to the collector
///   (mutual TLS), both or neither.
///
/// A file that cannot be read or holds nothing usable is an error naming
/// the variable and the file. `var` reads a variable; an empty value is
/// not set.
pub(crate) fn settings(
    signal: Signal,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Tls, String> {
    let file = |names: [&'static str; 2]| {
        names.into_iter().find_map(|name| {
            let path = var(name)?.trim().to_owned();
            (!path.is_empty()).then_some(PemFile { var: name, path })
        })
    };
    let roots = match file([signal.certificate_var, "OTEL_EXPORTER_OTLP_CERTIFICATE"]) {
        Some(file) => Arc::new(file.ca_certificates()?),
        None => default_roots(),
    };
    let mut grpc = ClientTlsConfig::new().trust_anchors(roots.roots.iter().cloned());
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots);
    let certificate = file([
        signal.client_certificate_var,
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    ]);
    let key = file([signal.client_key_var, "OTEL_EXPORTER_OTLP_CLIENT_KEY"]);
    let rustls = match (certificate, key) {
        (None, None) => config.with_no_client_auth(),
        (Some(certificate), Some(key)) => {
            let (chain_pem, chain) = certificate.certificates()?;
            let (key_pem, private_key) = key.private_key()?;
            grpc = grpc.identity(Identity::from_pem(chain_pem, key_pem));
            config
                .with_client_auth_cert(chain, private_key)
                .map_err(|e| {
                    format!(
                        "{} and {}: not a certificate and its key: {e}",
                        certificate.describe(),
                        key.describe()
                    )
                })?
        }
        (Some(file), None) | (None, Some(file)) => {
            return Err(format!(
                "{} is set without its pair (a client certificate needs \
                 OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY, \
                 or {} and {})",
                file.var, signal.client_certificate_var, signal.client_key_var
            ));
        }
    };
    Ok(Tls { grpc, rustls })
}

/// hyper's client to `http://` and `https://` URLs, HTTP/1.1, trusting
/// [`default_roots`]: for a destination that is not OTLP (Sentry), which
/// the `OTEL_EXPORTER_OTLP_*CERTIFICATE*` variables are not about.
#[cfg(feature = "sentry")]
pub(crate) fn default_client() -> Result<HttpsClient, String> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let rustls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(default_roots())
        .with_no_client_auth();
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(rustls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(connector),
    )
}

/// The root certificates of `https://` requests without a CA file of their
/// own: the system's (`rustls-native-certs`, which also reads
/// `SSL_CERT_FILE` and `SSL_CERT_DIR`), else Mozilla's. Loaded once.
pub(crate) fn default_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            Arc::new(roots)
        })
        .clone()
}

/// A PEM file named by a variable.
struct PemFile {
    var: &'static str,
    path: String,
}

impl PemFile {
    /// `VAR (PATH)`, for errors.
    fn describe(&self) -> String {
        format!("{} ({})", self.var, self.path)
    }

    fn read(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.path)
            .map_err(|e| format!("{}: cannot read {}: {e}", self.var, self.path))
    }

    /// The file's text and its certificates (at least one).
    fn certificates(&self) -> Result<(Vec<u8>, Vec<CertificateDer<'static>>), String> {
        let pem = self.read()?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {} is not valid PEM: {e}", self.var, self.path))?;
        if certificates.is_empty() {
            return Err(format!(
                "{}: {} holds no certificate (no -----BEGIN CERTIFICATE----- block)",
                self.var, self.path
            ));
        }
        Ok((pem, certificates))
    }

    /// The file's certificates, as the only roots to trust.
    fn ca_certificates(&self) -> Result<RootCertStore, String> {
        let (_, certificates) = self.certificates()?;
        let mut roots = RootCertStore::empty();
        for (n, certificate) in certificates.into_iter().enumerate() {
            roots.add(certificate).map_err(|e| {
                format!(
                    "{}: certificate {} of {} cannot be trusted: {e}",
                    self.var,
                    n + 1,
                    self.path
                )
            })?;
        }
        Ok(roots)
    }

    /// The file's text and its private key (the first one).
    fn private_key(&self) -> Result<(Vec<u8>, PrivateKeyDer<'static>), String> {
        let pem = self.read()?;
        let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => format!(
                "{}: {} holds no private key (no -----BEGIN PRIVATE KEY----- block)",
                self.var, self.path
            ),
            e => format!("{}: {} is not valid PEM: {e}", self.var, self.path),
        })?;
        Ok((pem, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::transport::{LOGS, METRICS, TRACES, from};

    /// A file of this test process under the temp dir, holding `text`;
    /// removed on drop.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> TempFile {
            let path =
                std::env::temp_dir().join(format!("o11y-transport-{}-{name}", std::process::id()));
            std::fs::write(&path, text).unwrap();
            TempFile(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn an_unreadable_certificate_file_is_an_error_naming_the_variable_and_the_file() {
        let missing = "/nonexistent/o11y-test/ca.pem";
        let error =
            settings(TRACES, from(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", missing)])).unwrap_err();
        assert!(
            error.starts_with(
                "OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read /nonexistent/o11y-test/ca.pem: "
            ),
            "{error}"
        );
        // A directory cannot be read as a file either.
        let directory = std::env::temp_dir();
        let directory = directory.to_str().unwrap();
        let error = settings(
            METRICS,
            from(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", directory)]),
        )
        .unwrap_err();
        assert!(
            error.starts_with(&format!(
                "OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read {directory}: "
            )),
            "{error}"
        );
    }

    #[test]
    fn a_certificate_file_without_a_certificate_is_an_error() {
        let text = TempFile::new("no-certificate.pem", "not a certificate\n");
        let error = settings(
            LOGS,
            from(&[("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", text.path())]),
        )
        .unwrap_err();
        assert_eq!(
            error,
            format!(
                "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: {} holds no certificate \
                 (no -----BEGIN CERTIFICATE----- block)",
                text.path()
            )
        );
        let garbled = TempFile::new(
            "garbled.pem",
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        );
        let error = settings(
            TRACES,
            from(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", garbled.path())]),
        )
        .unwrap_err();
        assert!(
            error.starts_with(&format!(
                "OTEL_EXPORTER_OTLP_CERTIFICATE: {} is not valid PEM: ",
                garbled.path()
            )),
            "{error}"
        );
        // Valid PEM, but not a certificate a root store can hold.
        let not_x509 = TempFile::new(
            "not-x509.pem",
            "-----BEGIN CERTIFICATE-----\nbm90IHg1MDk=\n-----END CERTIFICATE-----\n",
        );
        let error = settings(
            TRACES,
            from(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", not_x509.path())]),
        )
        .unwrap_err();
        assert!(
            error.starts_with(&format!(
                "OTEL_EXPORTER_OTLP_CERTIFICATE: certificate 1 of {} cannot be trusted: ",
                not_x509.path()
            )),
            "{error}"
        );
    }

    #[test]
    fn the_signal_certificate_wins_over_the_general_one() {
        let both = [
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/general.pem"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                "/nonexistent/traces.pem",
            ),
        ];
        let error = settings(TRACES, from(&both)).unwrap_err();
        assert!(
            error.starts_with(
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: cannot read /nonexistent/traces.pem"
            ),
            "{error}"
        );
        let error = settings(METRICS, from(&both)).unwrap_err();
        assert!(
            error.starts_with(
                "OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read /nonexistent/general.pem"
            ),
            "{error}"
        );
        // Empty is not set: the system's roots apply.
        settings(TRACES, from(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", " ")])).expect("default roots");
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let error = settings(
            METRICS,
            from(&[(
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                "/nonexistent/client.pem",
            )]),
        )
        .unwrap_err();
        assert!(
            error.starts_with("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE is set without its pair"),
            "{error}"
        );
        let key = TempFile::new("no-key.pem", "");
        let error = settings(
            TRACES,
            from(&[
                ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", key.path()),
                (
                    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                    "/nonexistent/client.pem",
                ),
            ]),
        )
        .unwrap_err();
        assert!(
            error.starts_with(
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cannot read /nonexistent/client.pem"
            ),
            "{error}"
        );
    }
}
