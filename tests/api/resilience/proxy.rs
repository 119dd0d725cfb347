//! A TCP proxy to PostgreSQL that a test can cut (the server is down), hang (the network
//! is gone) and restore.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards connections to PostgreSQL, until told to refuse or hang them.
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
    accept: JoinHandle<()>,
}

#[derive(Default)]
struct ProxyState {
    mode: Mode,
    connections: Vec<JoinHandle<()>>,
    /// Connections accepted while hanging: open, and silent.
    held: Vec<TcpStream>,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum Mode {
    #[default]
    Forward,
    /// New connections are accepted and closed at once: the server is down.
    Refuse,
    /// New connections are accepted and never answered: the network is gone.
    Hang,
}

impl Proxy {
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a proxy port");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(ProxyState::default()));
        let accept = tokio::spawn(accept_loop(listener, upstream, state.clone()));
        Self {
            addr,
            state,
            accept,
        }
    }

    /// Drops every open connection; new ones are accepted and closed at once.
    pub fn cut(&self) {
        self.switch(Mode::Refuse);
    }

    /// Drops every open connection; new ones are accepted and left unanswered.
    pub fn hang(&self) {
        self.switch(Mode::Hang);
    }

    pub fn restore(&self) {
        self.switch(Mode::Forward);
    }

    fn switch(&self, mode: Mode) {
        let mut state = self.state.lock().unwrap();
        state.mode = mode;
        state.held.clear();
        if mode != Mode::Forward {
            for connection in state.connections.drain(..) {
                connection.abort();
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn accept_loop(listener: TcpListener, upstream: String, state: Arc<Mutex<ProxyState>>) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        // Deciding under the lock: a connection is either refused or cut by `switch`.
        let mut state = state.lock().unwrap();
        match state.mode {
            Mode::Forward => {}
            Mode::Refuse => continue,
            Mode::Hang => {
                state.held.push(inbound);
                continue;
            }
        }
        state.connections.retain(|c| !c.is_finished());
        let upstream = upstream.clone();
        state.connections.push(tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        }));
    }
}
