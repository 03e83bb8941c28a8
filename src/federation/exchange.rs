//! The exchange service: streams this node's log to an authenticated partner, filtered by
//! [`super::rules::may_send`], only what is durable.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tracing::info;

use super::listener::PeerConn;
use super::rules;
use super::Context;
use crate::model::CountryCode;
use crate::pb;
use crate::record::Origin;
use crate::store::{Store, StoreError};
use prost::Message;

/// The `Exchange` gRPC service.
pub struct ExchangeService {
    cx: Arc<Context>,
}

impl ExchangeService {
    /// Serves a node's log.
    pub fn new(cx: Arc<Context>) -> Self {
        Self { cx }
    }
}

/// The partner connection a request comes on (its certificate verified at the handshake,
/// and again whenever the registry changed since).
fn caller<T>(req: &Request<T>) -> Result<PeerConn, Status> {
    let conn = req
        .extensions()
        .get::<PeerConn>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("a client certificate is required"))?;
    if conn.kill.is_killed() {
        return Err(Status::permission_denied(
            "this connection is no longer trusted",
        ));
    }
    Ok(conn)
}

type BatchStream = Pin<Box<dyn Stream<Item = Result<pb::ExchangeBatch, Status>> + Send>>;

#[tonic::async_trait]
impl pb::exchange_server::Exchange for ExchangeService {
    type SubscribeStream = BatchStream;

    async fn subscribe(
        &self,
        req: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let conn = self.registered_caller(&req)?;
        let who = conn.identity.clone();
        let fed = &self.cx.fed;
        let key = conn.node_key();
        if !fed.admit(&key) {
            fed.refusal_log
                .refused("subscribe rate limit", conn.remote.ip(), &key);
            return Err(Status::resource_exhausted(
                "too many Subscribe calls; slow down",
            ));
        }
        let permit = fed.slots(&key).try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "{who} already holds {} subscriptions with this certificate",
                super::MAX_SUBSCRIPTIONS_PER_PEER
            ))
        })?;
        let from = req.get_ref().from_position;
        if self.cx.is_recovering() {
            return Err(Status::unavailable(
                "this node was restored from a backup and is recovering from its partners; retry later",
            ));
        }
        // After a restore, a partner whose cursor points beyond where the new log parts from
        // the old one reads it again from the start (once).
        let resync = self
            .cx
            .store
            .resync(who.country)
            .map_err(|e| Status::internal(e.to_string()))?;
        if let Some(parting) = resync {
            if from > parting {
                return Err(Status::out_of_range(format!(
                    "position {from} points into this node's log before it was restored from a backup (the logs part at {parting}); subscribe again from 0"
                )));
            }
            self.cx
                .store
                .clear_resync(who.country)
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        let len = self.cx.log.durable_len();
        if from > len {
            // Only a node restored from a backup has a log shorter than a partner's cursor.
            return Err(Status::out_of_range(format!(
                "position {from} is beyond this node's log ({len} records): it was restored from a backup; subscribe again from 0"
            )));
        }
        info!(peer = %who, from, "subscription opened");
        let (tx, rx) = mpsc::channel(4);
        let cx = self.cx.clone();
        tokio::spawn(async move {
            stream_log(cx, conn, from, tx).await;
            drop(permit);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_tree_head(
        &self,
        req: Request<pb::TreeHeadRequest>,
    ) -> Result<Response<pb::SignedTreeHead>, Status> {
        self.audit_caller(&req)?;
        if self.cx.is_recovering() {
            return Err(Status::unavailable(
                "this node was restored from a backup and is recovering; its tree head follows its restore declaration",
            ));
        }
        let cx = self.cx.clone();
        let sth = tokio::task::spawn_blocking(move || cx.log.tree_head_for_partner())
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(|e| match e {
                StoreError::Busy | StoreError::Flush(_) => Status::unavailable(e.to_string()),
                e => Status::internal(e.to_string()),
            })?;
        Ok(Response::new(sth))
    }

    async fn get_consistency_proof(
        &self,
        req: Request<pb::ConsistencyProofRequest>,
    ) -> Result<Response<pb::ProofResponse>, Status> {
        self.audit_caller(&req)?;
        let (a, b) = (req.get_ref().first_size, req.get_ref().second_size);
        let cx = self.cx.clone();
        proof_response(tokio::task::spawn_blocking(move || cx.log.consistency_proof(a, b)).await)
    }

    async fn get_inclusion_proof(
        &self,
        req: Request<pb::InclusionProofRequest>,
    ) -> Result<Response<pb::ProofResponse>, Status> {
        self.audit_caller(&req)?;
        let (i, n) = (req.get_ref().index, req.get_ref().tree_size);
        let cx = self.cx.clone();
        proof_response(tokio::task::spawn_blocking(move || cx.log.inclusion_proof(i, n)).await)
    }

    async fn get_cosignatures(
        &self,
        req: Request<pb::CosignaturesRequest>,
    ) -> Result<Response<pb::CosignaturesResponse>, Status> {
        let who = self.audit_caller(&req)?;
        let cosignatures = self
            .cx
            .store
            .cosignatures_made(
                who.identity.country,
                req.get_ref().min_size,
                super::MAX_COSIGNATURES_PER_CALL,
            )
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(pb::CosignaturesResponse { cosignatures }))
    }

    async fn get_crl(
        &self,
        req: Request<pb::CrlRequest>,
    ) -> Result<Response<pb::CrlResponse>, Status> {
        self.audit_caller(&req)?;
        let Some(path) = self.cx.exchange.as_ref().map(|e| e.crl.clone()) else {
            return Ok(Response::new(pb::CrlResponse::default()));
        };
        let crl_pem = match tokio::fs::read(&path).await {
            Ok(b) if b.len() <= MAX_CRL_BYTES => String::from_utf8(b)
                .map_err(|_| Status::internal("the published CRL file is not PEM text"))?,
            Ok(_) => return Err(Status::internal("the published CRL file is too large")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Status::internal(format!("published CRL: {e}"))),
        };
        Ok(Response::new(pb::CrlResponse { crl_pem }))
    }

    async fn recover_own(
        &self,
        req: Request<pb::RecoverOwnRequest>,
    ) -> Result<Response<pb::RecoverOwnResponse>, Status> {
        // The caller gets back only records of its own origin, named by its certificate.
        let who = self.audit_caller(&req)?;
        let origin = who.identity.clone();
        let after = req.get_ref().after_seq;
        let store = self.cx.store.clone();
        let answer = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            let last = store.last_seq(&origin)?;
            let mut envelopes = Vec::new();
            let mut bytes = 0usize;
            for (_, id) in store.ids_after(&origin, after, MAX_RECOVER_PER_CALL as usize)? {
                if let Some(env) = store.get_envelope(&id)? {
                    bytes += env.body.len() + env.signature.len() + env.key_id.len() + 16;
                    envelopes.push(env);
                    // Within the exchange's message size, whatever the records' sizes.
                    if bytes >= MAX_RECOVER_BYTES {
                        break;
                    }
                }
            }
            let seen_head = store.seen_head(origin.country)?;
            Ok(pb::RecoverOwnResponse {
                envelopes,
                last_seq: last,
                seen_head,
            })
        })
        .await
        .map_err(|e| Status::internal(format!("recovery task: {e}")))?
        .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(answer))
    }
}

/// Most envelopes one `RecoverOwn` answer carries.
pub const MAX_RECOVER_PER_CALL: u64 = 1024;

/// An answer stops growing past this many bytes of envelopes (under the exchange's message
/// limit).
pub const MAX_RECOVER_BYTES: usize = 2 << 20;

/// Largest CRL a node publishes or accepts (bytes).
pub const MAX_CRL_BYTES: usize = 1 << 20;

impl ExchangeService {
    /// The caller, which must (still) be a registered partner: the handshake already requires
    /// a registered CA; a partner removed since then ends here.
    fn registered_caller<T>(&self, req: &Request<T>) -> Result<PeerConn, Status> {
        let who = caller(req)?;
        if !still_registered(&self.cx, &who) {
            return Err(Status::permission_denied(format!(
                "{} is not a registered partner",
                who.identity.country
            )));
        }
        Ok(who)
    }

    /// A registered partner within its transparency-log call budget.
    fn audit_caller<T>(&self, req: &Request<T>) -> Result<PeerConn, Status> {
        let who = self.registered_caller(req)?;
        if !self.cx.fed.admit_audit(&who.node_key()) {
            self.cx.fed.refusal_log.refused(
                "transparency-log rate limit",
                who.remote.ip(),
                &who.node_key(),
            );
            return Err(Status::resource_exhausted(
                "too many transparency-log calls; slow down",
            ));
        }
        Ok(who)
    }
}

/// A proof (hashes), a request that cannot be served (why), or a storage failure.
pub type ProofResult = Result<Result<Vec<Vec<u8>>, String>, StoreError>;

/// Maps a proof computation to a gRPC answer: a request that cannot be served is the
/// caller's error, a storage failure ours.
pub fn proof_response(
    r: Result<ProofResult, tokio::task::JoinError>,
) -> Result<Response<pb::ProofResponse>, Status> {
    match r {
        Ok(Ok(Ok(hashes))) => Ok(Response::new(pb::ProofResponse { hashes })),
        Ok(Ok(Err(why))) => Err(Status::invalid_argument(why)),
        Ok(Err(e)) => Err(Status::internal(e.to_string())),
        Err(e) => Err(Status::internal(e.to_string())),
    }
}

/// Whether a connection's partner is still registered and the connection not closed.
fn still_registered(cx: &Context, conn: &PeerConn) -> bool {
    !conn.kill.is_killed()
        && cx
            .fed
            .registry
            .read()
            .map(|r| r.peer(conn.identity.country).is_some())
            .unwrap_or(false)
}

async fn stream_log(
    cx: Arc<Context>,
    conn: PeerConn,
    mut next: u64,
    tx: mpsc::Sender<Result<pb::ExchangeBatch, Status>>,
) {
    let peer = conn.identity.country;
    let mut durable = cx.log.durable_watch();
    let mut stopping = cx.stopping_watch();
    loop {
        if *stopping.borrow() {
            return;
        }
        // Every batch is authorized against the registry as it is now.
        if !still_registered(&cx, &conn) {
            info!(peer = %conn.identity, "subscription ended: the partner is no longer trusted");
            let _ = tx
                .send(Err(Status::permission_denied(
                    "this partner is no longer registered",
                )))
                .await;
            return;
        }
        let end = *durable.borrow_and_update();
        if next < end {
            let store = cx.store.clone();
            let me = cx.origin().clone();
            let scanned =
                tokio::task::spawn_blocking(move || scan(&store, next, end, peer, &me)).await;
            let batch = match scanned {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => {
                    let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                    return;
                }
            };
            next = batch.scanned_to;
            if tx.send(Ok(batch)).await.is_err() {
                return;
            }
            continue;
        }
        tokio::select! {
            r = durable.changed() => if r.is_err() { return },
            _ = stopping.changed() => return,
            _ = tx.closed() => return,
        }
    }
}

/// The next batch for `peer` from log position `from` (below `end`): at most
/// [`super::MAX_BATCH_ITEMS`] records or [`super::BATCH_SOFT_BYTES`] bytes.
fn scan(
    store: &Store,
    from: u64,
    end: u64,
    peer: CountryCode,
    me: &Origin,
) -> Result<pb::ExchangeBatch, StoreError> {
    let mut items = vec![];
    let mut bytes = 0usize;
    let mut scanned_to = from;
    for item in store.log_range(from, end) {
        let (position, id) = item?;
        scanned_to = position + 1;
        let envelope = store
            .get_envelope(&id)?
            .ok_or_else(|| StoreError::Corrupt(format!("log points to missing record {id}")))?;
        let body = pb::RecordBody::decode(envelope.body.as_slice())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if rules::may_send_body(&body, peer, me) {
            bytes += envelope.body.len() + envelope.signature.len() + 64;
            items.push(pb::ExchangeItem {
                position,
                envelope: Some(envelope),
            });
            if items.len() >= super::MAX_BATCH_ITEMS || bytes >= super::BATCH_SOFT_BYTES {
                break;
            }
        }
        // Bound the work of one step even when nothing is for this peer.
        if scanned_to - from >= 4 * super::MAX_BATCH_ITEMS as u64 {
            break;
        }
    }
    Ok(pb::ExchangeBatch { items, scanned_to })
}
