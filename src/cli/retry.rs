//! Issuing requests that survive a node dying or stopping mid-request.
//!
//! Every issuing command sends a request id (its own, or the one given with
//! `--request-id`). When the answer is lost (the connection broke, the node stopped or
//! restarted), the CLI cannot know whether the node stored the records, so it asks again with
//! the same id: the node returns the records it stored then, or stores them now. Nothing is
//! ever signed twice for one request id.

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use tonic::transport::Channel;

use super::CliError;
use crate::cli::client::ConnectError;
use kdesk::pb::admin_client::AdminClient;

/// How long an issuing command keeps retrying an ambiguous failure.
pub const RETRY_FOR: Duration = Duration::from_secs(30);

/// A fresh request id for one command: `cli-` and 32 random hex digits.
///
/// # Errors
/// The system's random source failed.
pub fn new_request_id() -> Result<String, CliError> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b)
        .map_err(|e| CliError::new(super::exit::SOFTWARE, format!("random source: {e}")))?;
    Ok(format!("cli-{}", hex::encode(b)))
}

/// Whether a failed call may or may not have been carried out (the answer was lost, or the
/// node said "not now"): safe to repeat with the same request id.
fn ambiguous(s: &tonic::Status) -> bool {
    use tonic::Code;
    if s.metadata().contains_key(kdesk::node::REFUSAL_METADATA) {
        return false;
    }
    // The client library reports a connection lost mid-call as "transport error", under
    // more than one code; the node's own internal errors never say so.
    matches!(
        s.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Aborted
    ) || (s.code() == Code::Internal
        && (s.message().contains("transport error") || s.message().contains("h2 protocol error")))
}

/// Runs `call` against the node of `data_dir`, repeating it (with the same request inside)
/// while its failure is ambiguous, for up to [`RETRY_FOR`]. The first connection must
/// succeed: a node that is not running is reported at once.
///
/// # Errors
/// The node's answer, or the last failure once the retry time is spent.
pub async fn issuing<T, F, Fut>(data_dir: &Path, what: &str, mut call: F) -> Result<T, CliError>
where
    F: FnMut(AdminClient<Channel>) -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(100);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let failure: CliError = match crate::cli::client::connect(data_dir).await {
            Ok(client) => match call(client).await {
                Ok(v) => return Ok(v),
                Err(s) if ambiguous(&s) => s.into(),
                Err(s) => return Err(s.into()),
            },
            Err(e @ ConnectError::NotRunning { .. }) if attempt > 1 => e.into(),
            Err(e) => return Err(e.into()),
        };
        if start.elapsed() + delay > RETRY_FOR {
            // Whether the node stored the request is unknown: "retry later", with the same id.
            return Err(CliError::new(
                super::exit::TEMPFAIL,
                format!(
                    "{}; gave up after {} s (retrying {what} with the same request id is safe)",
                    failure.message,
                    start.elapsed().as_secs()
                ),
            ));
        }
        eprintln!(
            "warning: {what}: {} — retrying in {} ms with the same request id",
            failure.message,
            delay.as_millis()
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_answers_are_ambiguous_refusals_are_not() {
        assert!(ambiguous(&tonic::Status::unavailable("connection refused")));
        assert!(ambiguous(&tonic::Status::internal("transport error")));
        assert!(!ambiguous(&tonic::Status::internal("storage: disk failed")));
        assert!(!ambiguous(&tonic::Status::invalid_argument("bad field")));
        let mut stopping = tonic::Status::unavailable("the node is stopping");
        stopping.metadata_mut().insert(
            kdesk::node::REFUSAL_METADATA,
            tonic::metadata::MetadataValue::from_static("stopping"),
        );
        assert!(!ambiguous(&stopping));
    }
}
