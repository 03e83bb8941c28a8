//! A misbehaving partner, for demonstrations and tests of the refusal paths.
//!
//! [`Rogue`] is a real exchange server (TLS 1.3, mutual authentication with real certificates,
//! the real `Exchange` protocol) that streams whatever envelopes it is given: forged
//! signatures, altered bodies, records outside their distribution, duplicates, records out of
//! order. A correct kdesk node subscribed to it must refuse what it should, count it, store
//! the rest exactly once, and keep serving. Nothing in a running node uses this module.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use tokio::net::TcpListener;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use kdesk::federation::registry::{CompiledPeer, PeerEntry, Registry};
use kdesk::federation::tls;
use kdesk::pb;

/// A running misbehaving partner.
pub struct Rogue {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Rogue {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

struct RogueExchange {
    items: Arc<Vec<pb::Envelope>>,
}

type BatchStream = Pin<Box<dyn Stream<Item = Result<pb::ExchangeBatch, Status>> + Send>>;

#[tonic::async_trait]
impl pb::exchange_server::Exchange for RogueExchange {
    type SubscribeStream = BatchStream;

    async fn subscribe(
        &self,
        req: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let from = usize::try_from(req.get_ref().from_position).unwrap_or(usize::MAX);
        // One record per batch, so that every refusal path sees single items too.
        let items: Vec<Result<pb::ExchangeBatch, Status>> = self
            .items
            .iter()
            .enumerate()
            .skip(from)
            .map(|(i, e)| {
                Ok(pb::ExchangeBatch {
                    items: vec![pb::ExchangeItem {
                        position: i as u64,
                        envelope: Some(e.clone()),
                    }],
                    scanned_to: i as u64 + 1,
                })
            })
            .collect();
        // Send everything, then keep the stream open like a real partner would.
        let s = tokio_stream::StreamExt::chain(tokio_stream::iter(items), tokio_stream::pending());
        Ok(Response::new(Box::pin(s)))
    }

    async fn get_tree_head(
        &self,
        _: Request<pb::TreeHeadRequest>,
    ) -> Result<Response<pb::SignedTreeHead>, Status> {
        Err(Status::unimplemented("a rogue keeps no log"))
    }

    async fn get_consistency_proof(
        &self,
        _: Request<pb::ConsistencyProofRequest>,
    ) -> Result<Response<pb::ProofResponse>, Status> {
        Err(Status::unimplemented("a rogue keeps no log"))
    }

    async fn get_inclusion_proof(
        &self,
        _: Request<pb::InclusionProofRequest>,
    ) -> Result<Response<pb::ProofResponse>, Status> {
        Err(Status::unimplemented("a rogue keeps no log"))
    }

    async fn get_cosignatures(
        &self,
        _: Request<pb::CosignaturesRequest>,
    ) -> Result<Response<pb::CosignaturesResponse>, Status> {
        Ok(Response::new(pb::CosignaturesResponse::default()))
    }

    async fn get_crl(
        &self,
        _: Request<pb::CrlRequest>,
    ) -> Result<Response<pb::CrlResponse>, Status> {
        Ok(Response::new(pb::CrlResponse::default()))
    }

    async fn recover_own(
        &self,
        _: Request<pb::RecoverOwnRequest>,
    ) -> Result<Response<pb::RecoverOwnResponse>, Status> {
        Ok(Response::new(pb::RecoverOwnResponse::default()))
    }
}

/// Starts a rogue partner on 127.0.0.1 (any free port) presenting `identity`, accepting the
/// node described by `victim` as its client, and streaming `items` in order.
///
/// # Errors
/// TLS configuration or bind failure, as text.
pub async fn start_rogue(
    identity: tls::Identity,
    victim: PeerEntry,
    items: Vec<pb::Envelope>,
) -> Result<Rogue, String> {
    let mut registry = Registry::default();
    registry.insert(CompiledPeer::compile(victim, &tls::provider()).map_err(|e| e.to_string())?);
    let cfg = tls::server_config(Arc::new(RwLock::new(registry)), &identity, Arc::default())
        .map_err(|e| e.to_string())?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let tcp = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = tcp.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        while let Ok((s, _)) = tcp.accept().await {
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(s).await {
                    let _ = tx.send(Ok::<_, std::io::Error>(tls)).await;
                }
            });
        }
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let svc = pb::exchange_server::ExchangeServer::new(RogueExchange {
        items: Arc::new(items),
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming_shutdown(tokio_stream::wrappers::ReceiverStream::new(rx), async {
                let _ = stopped.await;
            }),
    );
    Ok(Rogue {
        addr,
        stop: Some(stop),
    })
}
