//! Redis 7 without persistence, plus a minimal RESP client.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use super::PeerProcess;

/// A running Redis (see the module doc of `common`).
pub struct Redis {
    peer: PeerProcess,
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resp {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`
    Error(String),
    /// `:42`
    Int(i64),
    /// `$3 foo`, or nil (`$-1`)
    Bulk(Option<Vec<u8>>),
    /// `*2 ...`, or nil (`*-1`)
    Array(Option<Vec<Resp>>),
}

impl Resp {
    /// A simple string or a (non-nil) bulk string, as text.
    pub fn as_str(&self) -> Option<String> {
        match self {
            Resp::Simple(s) => Some(s.clone()),
            Resp::Bulk(Some(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

impl Redis {
    /// Start Redis on a free port; `None` if not installed.
    pub fn start() -> Option<Redis> {
        PeerProcess::start("redis", 1).map(|peer| Redis { peer })
    }

    /// The port Redis listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.peer.port(0)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port())
    }

    /// The peer's directory (config, log).
    pub fn workdir(&self) -> &Path {
        self.peer.workdir()
    }

    /// Send one command on a new connection and return the reply; panics on
    /// I/O errors (a Redis error reply is returned as [`Resp::Error`]).
    /// Sends one command; its arguments are text or any bytes.
    pub fn cmd<A: AsRef<[u8]> + std::fmt::Debug>(&self, args: &[A]) -> Resp {
        self.try_cmd(args)
            .unwrap_or_else(|e| panic!("redis {args:?} on port {}: {e}", self.port()))
    }

    /// Like [`Redis::cmd`], returning I/O errors instead of panicking.
    pub fn try_cmd<A: AsRef<[u8]>>(&self, args: &[A]) -> io::Result<Resp> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port()))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            let a = a.as_ref();
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        stream.write_all(&req)?;
        read_resp(&mut BufReader::new(stream))
    }
}

fn read_resp(r: &mut impl BufRead) -> io::Result<Resp> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    let line = line.trim_end_matches(['\r', '\n']);
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad reply: {line:?}"));
    let (kind, rest) = line.split_at_checked(1).ok_or_else(bad)?;
    Ok(match kind {
        "+" => Resp::Simple(rest.to_string()),
        "-" => Resp::Error(rest.to_string()),
        ":" => Resp::Int(rest.parse().map_err(|_| bad())?),
        "$" => {
            let n: i64 = rest.parse().map_err(|_| bad())?;
            if n < 0 {
                Resp::Bulk(None)
            } else {
                let mut buf = vec![0; n as usize + 2];
                r.read_exact(&mut buf)?;
                buf.truncate(n as usize);
                Resp::Bulk(Some(buf))
            }
        }
        "*" => {
            let n: i64 = rest.parse().map_err(|_| bad())?;
            if n < 0 {
                Resp::Array(None)
            } else {
                let mut items = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    items.push(read_resp(r)?);
                }
                Resp::Array(Some(items))
            }
        }
        _ => return Err(bad()),
    })
}
