//! Client of a running node's Admin API over its Unix socket.

use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint};

use kdesk::config::{Config, ConfigError};
use kdesk::pb::admin_client::AdminClient;

/// Why the CLI could not reach the node.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Configuration missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The socket exists but this user may not use it.
    #[error(
        "permission denied on {socket}: only the node's owner (or its officers' group, \
         [admin] group in kdesk.toml) may use the Admin API of {data_dir}"
    )]
    PermissionDenied {
        /// The data directory.
        data_dir: String,
        /// The socket path.
        socket: String,
    },
    /// No node answers on the socket.
    #[error(
        "no kdesk node is running for {data_dir} ({reason} at {socket}); \
         start it with: kdesk serve --data-dir {data_dir}"
    )]
    NotRunning {
        /// The data directory.
        data_dir: String,
        /// The socket path.
        socket: String,
        /// What happened.
        reason: String,
    },
}

/// Connects to the node that owns `data_dir`.
///
/// # Errors
/// No configuration, or no node listening.
pub async fn connect(data_dir: &Path) -> Result<AdminClient<Channel>, ConnectError> {
    let config = Config::load(data_dir)?;
    connect_socket(data_dir, config.admin_socket).await
}

async fn connect_socket(
    data_dir: &Path,
    socket: PathBuf,
) -> Result<AdminClient<Channel>, ConnectError> {
    let not_running = |reason: String| ConnectError::NotRunning {
        data_dir: data_dir.display().to_string(),
        socket: socket.display().to_string(),
        reason,
    };
    if !socket.exists() {
        return Err(not_running("no admin socket".into()));
    }
    let path = socket.clone();
    // The URI is required by tonic but unused: the connector always dials the socket.
    let channel = Endpoint::from_static("http://kdesk.admin")
        .connect_with_connector(tower::service_fn(move |_| {
            let path = path.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
        }))
        .await
        .map_err(|e| {
            let mut reason = e.to_string();
            let mut denied = false;
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                reason = s.to_string();
                if let Some(io) = s.downcast_ref::<std::io::Error>() {
                    denied |= io.kind() == std::io::ErrorKind::PermissionDenied;
                }
                src = s.source();
            }
            if denied {
                ConnectError::PermissionDenied {
                    data_dir: data_dir.display().to_string(),
                    socket: socket.display().to_string(),
                }
            } else {
                not_running(reason)
            }
        })?;
    Ok(AdminClient::new(channel).max_decoding_message_size(kdesk::node::MAX_ADMIN_MESSAGE_BYTES))
}
