//! A Sentry stand-in for the tests of o11y's `sentry` feature: an HTTP/1.1
//! listener on 127.0.0.1, started by the test in the parent process, whose
//! [`dsn`](SentryReceiver::dsn) the child's `SENTRY_DSN` points at. It
//! keeps every request the SDK posts (recorded before it answers `200`, so
//! once the child has exited, having flushed its events, they are all
//! here) and decodes their envelopes with [`decode_envelope`], a reader of
//! the envelope format of its own: a check of what goes on the wire that
//! does not trust the SDK's own parser.
//!
//! In a child process (see [`child`](crate::child)) `start()` binds
//! nothing: the parent's receiver is the one its DSN names.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// One request the receiver took.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request line's method (`POST`).
    pub method: String,
    /// The request's path (`/api/1/envelope/`).
    pub path: String,
    /// Its headers, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// Its body: one envelope.
    pub body: Vec<u8>,
}

impl Received {
    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One decoded envelope: its header and its items.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The envelope header (`event_id`, `dsn`, `sent_at`, …).
    pub header: Value,
    /// Its items, in order.
    pub items: Vec<Item>,
}

/// One item of an envelope.
#[derive(Debug, Clone)]
pub struct Item {
    /// The item header (`type`, `length`, …).
    pub header: Value,
    /// The payload as sent.
    pub payload: Vec<u8>,
}

impl Item {
    /// The item's type: `event`, `client_report`, …
    pub fn kind(&self) -> &str {
        self.header["type"].as_str().unwrap_or_default()
    }

    /// The payload read as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.payload).unwrap_or_else(|e| {
            panic!(
                "a {} item is not JSON ({e}): {}",
                self.kind(),
                String::from_utf8_lossy(&self.payload)
            )
        })
    }
}

/// Reads an envelope: a JSON header line, then items, each a JSON header
/// line and a payload of the header's `length` bytes (or, without one, up
/// to the end of the line).
pub fn decode_envelope(bytes: &[u8]) -> Result<Envelope, String> {
    let line = |at: usize| -> (&[u8], usize) {
        let end = bytes[at..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |n| at + n);
        (&bytes[at..end], (end + 1).min(bytes.len()))
    };
    let json = |text: &[u8], what: &str| -> Result<Value, String> {
        serde_json::from_slice(text).map_err(|e| {
            format!(
                "the {what} is not JSON ({e}): {}",
                String::from_utf8_lossy(text)
            )
        })
    };
    let (first, mut at) = line(0);
    let header = json(first, "envelope header")?;
    let mut items = Vec::new();
    while at < bytes.len() {
        let (text, next) = line(at);
        if text.iter().all(u8::is_ascii_whitespace) {
            at = next;
            continue;
        }
        let item_header = json(text, "item header")?;
        let (payload, after) = match item_header["length"].as_u64() {
            Some(length) => {
                let end = next + usize::try_from(length).map_err(|e| e.to_string())?;
                if end > bytes.len() {
                    return Err(format!(
                        "an item of {length} bytes runs past the envelope's end"
                    ));
                }
                (&bytes[next..end], (end + 1).min(bytes.len()))
            }
            None => line(next),
        };
        items.push(Item {
            header: item_header,
            payload: payload.to_vec(),
        });
        at = after;
    }
    Ok(Envelope { header, items })
}

/// The listener; see the module documentation. Stops listening when
/// dropped.
#[derive(Debug)]
pub struct SentryReceiver {
    addr: Option<SocketAddr>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SentryReceiver {
    /// Listens on a free loopback port (in a child, does nothing).
    pub fn start() -> SentryReceiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        if crate::is_child() {
            return SentryReceiver {
                addr: None,
                received,
            };
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let kept = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let kept = kept.clone();
                std::thread::spawn(move || serve(stream, &kept));
            }
        });
        SentryReceiver {
            addr: Some(addr),
            received,
        }
    }

    /// `http://public@127.0.0.1:<port>/1`: project 1 on this listener.
    pub fn dsn(&self) -> String {
        let port = self.addr.map_or(0, |addr| addr.port());
        format!("http://public@127.0.0.1:{port}/1")
    }

    /// Every request taken so far.
    pub fn requests(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every envelope taken so far, decoded (a request whose body is not
    /// one fails the test).
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.requests()
            .iter()
            .map(|request| {
                decode_envelope(&request.body).unwrap_or_else(|e| {
                    panic!(
                        "{} {} is not an envelope: {e}\n{}",
                        request.method,
                        request.path,
                        String::from_utf8_lossy(&request.body)
                    )
                })
            })
            .collect()
    }

    /// The payload of every `event` item taken so far, as JSON.
    pub fn events(&self) -> Vec<Value> {
        self.envelopes()
            .iter()
            .flat_map(|envelope| &envelope.items)
            .filter(|item| item.kind() == "event")
            .map(Item::json)
            .collect()
    }

    /// Everything received (request lines, headers and bodies) as one
    /// text: what a secret must not be found in.
    pub fn everything(&self) -> String {
        self.requests()
            .iter()
            .map(|request| {
                let headers: Vec<String> = request
                    .headers
                    .iter()
                    .map(|(name, value)| format!("{name}: {value}"))
                    .collect();
                format!(
                    "{} {}\n{}\n\n{}\n",
                    request.method,
                    request.path,
                    headers.join("\n"),
                    String::from_utf8_lossy(&request.body)
                )
            })
            .collect()
    }
}

/// Serves one connection: requests one after the other (keep-alive), each
/// recorded, then answered `200 {}`.
fn serve(stream: TcpStream, received: &Mutex<Vec<Received>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            match read_chunked(&mut reader) {
                Some(body) => body,
                None => return,
            }
        } else {
            let length: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            body
        };
        received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Received {
                method,
                path,
                headers,
                body,
            });
        let answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// A chunked body; `None` when the connection ends inside it.
fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_with_and_without_lengths_are_read() {
        let bytes = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n\
                      {\"type\":\"event\",\"length\":12}\n{\"a\":\"b\\nc\"}\n\
                      {\"type\":\"client_report\"}\n{\"discarded_events\":[]}\n";
        let envelope = decode_envelope(bytes).expect("an envelope");
        assert_eq!(
            envelope.header["event_id"],
            "9ec79c33ec9942ab8353589fcb2e04dc"
        );
        assert_eq!(envelope.items.len(), 2);
        assert_eq!(envelope.items[0].kind(), "event");
        assert_eq!(envelope.items[0].json()["a"], "b\nc");
        assert_eq!(envelope.items[1].kind(), "client_report");
        assert!(envelope.items[1].json()["discarded_events"].is_array());
        assert!(decode_envelope(b"{}\n{\"type\":\"event\",\"length\":99}\n{}").is_err());
        assert!(decode_envelope(b"not json").is_err());
    }
}
