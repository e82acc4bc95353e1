//! `castellan serve`: the IAM, STS and Organizations endpoint over a data directory, until
//! SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use castellan::{Iam, ROOT_CREDENTIALS_FILE};
use castellan_server::{Server, ServerConfig};

use crate::Outcome;

/// The address `castellan serve` listens on unless told otherwise: loopback, port 7680 (not
/// 4566, which other local AWS emulators take).
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:7680";

/// Runs the server until a signal; returns when it has shut down.
pub(crate) fn serve(listen: &str, data_dir: &Path) -> Outcome {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CASTELLAN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let address: SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("castellan serve: `{listen}` is not an address (such as {DEFAULT_LISTEN}): {e}");
            return Outcome::Usage;
        }
    };
    let iam = match Iam::builder().data_dir(data_dir).open() {
        Ok(iam) => iam,
        Err(e) => {
            eprintln!("castellan serve: cannot open the data directory {}: {e}", data_dir.display());
            return Outcome::Usage;
        }
    };
    if let Some(root) = iam.root_credentials() {
        eprintln!(
            "castellan: bootstrapped account {} in {}; the root user's access key {} is in {} \
             (use it with AWS_SHARED_CREDENTIALS_FILE)",
            root.account_id,
            data_dir.display(),
            root.access_key_id,
            data_dir.join(ROOT_CREDENTIALS_FILE).display()
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("castellan serve: cannot start the runtime: {e}");
            return Outcome::Usage;
        }
    };
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let local = listener.local_addr()?;
        eprintln!("castellan: serving IAM, STS and Organizations at http://{local}");
        Server::new(Arc::new(iam), ServerConfig::default()).serve(listener, shutdown_signal()).await?;
        eprintln!("castellan: stopped");
        Ok::<(), std::io::Error>(())
    });
    match result {
        Ok(()) => Outcome::Clean,
        Err(e) => {
            eprintln!("castellan serve: {e}");
            Outcome::Usage
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
