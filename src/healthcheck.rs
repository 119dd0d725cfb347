//! `fastcall-emulator --healthcheck`: asks a running emulator's `/livez`, for container
//! health checks in images without curl or a shell.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether the emulator listening on `addr` answers `/livez` with 200 within two seconds.
pub async fn check(addr: SocketAddr) -> bool {
    tokio::time::timeout(Duration::from_secs(2), probe(reachable(addr)))
        .await
        .unwrap_or(false)
}

/// A listener on every interface is reached through loopback.
fn reachable(mut addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            Ipv4Addr::LOCALHOST.into()
        } else {
            Ipv6Addr::LOCALHOST.into()
        });
    }
    addr
}

async fn probe(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return false;
    };
    let request = format!("GET /livez HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).await.is_ok() && status_line.starts_with(b"HTTP/1.1 200")
}
