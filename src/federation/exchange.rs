//! The exchange service: streams this node's log to an authenticated partner, filtered by
//! [`super::rules::may_send`], only what is durable.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tracing::{info, warn};

use super::rules;
use crate::model::CountryCode;
use crate::node::Node;
use crate::pb;
use crate::pki;
use crate::record::Origin;
use crate::store::{Store, StoreError};

/// Records scanned per step of a subscription.
const SCAN_CHUNK: u64 = 512;

/// The `Exchange` gRPC service.
pub struct ExchangeService {
    node: Arc<Node>,
}

impl ExchangeService {
    /// Serves a node's log.
    pub fn new(node: Arc<Node>) -> Self {
        Self { node }
    }
}

/// The partner country a request comes from, by its (already verified) client certificate.
fn caller(req: &Request<pb::SubscribeRequest>) -> Result<Origin, Status> {
    let certs = req
        .peer_certs()
        .ok_or_else(|| Status::unauthenticated("a client certificate is required"))?;
    let leaf = certs
        .first()
        .ok_or_else(|| Status::unauthenticated("a client certificate is required"))?;
    pki::node_identity(leaf).map_err(|e| Status::unauthenticated(e.to_string()))
}

type ItemStream = Pin<Box<dyn Stream<Item = Result<pb::ExchangeItem, Status>> + Send>>;

#[tonic::async_trait]
impl pb::exchange_server::Exchange for ExchangeService {
    type SubscribeStream = ItemStream;

    async fn subscribe(
        &self,
        req: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let who = caller(&req)?;
        let fed = &self.node.fed;
        let registered = fed
            .registry
            .read()
            .map(|r| r.peer(who.country).is_some())
            .unwrap_or(false);
        if !registered {
            // The handshake already requires a registered CA; a peer removed since then ends here.
            return Err(Status::permission_denied(format!(
                "{} is not a registered partner",
                who.country
            )));
        }
        if !fed.admit(who.country) {
            warn!(peer = %who, "subscribe rate limit exceeded");
            return Err(Status::resource_exhausted(
                "too many Subscribe calls; slow down",
            ));
        }
        let permit = fed.slots(who.country).try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "{} already holds {} subscriptions",
                who.country,
                super::MAX_SUBSCRIPTIONS_PER_PEER
            ))
        })?;
        let from = req.get_ref().from_position;
        info!(peer = %who, from, "subscription opened");
        let (tx, rx) = mpsc::channel(256);
        let node = self.node.clone();
        tokio::spawn(async move {
            stream_log(node, who.country, from, tx).await;
            drop(permit);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

async fn stream_log(
    node: Arc<Node>,
    peer: CountryCode,
    mut next: u64,
    tx: mpsc::Sender<Result<pb::ExchangeItem, Status>>,
) {
    let mut durable = node.durable_watch();
    let mut stopping = node.stopping_watch();
    loop {
        if *stopping.borrow() {
            return;
        }
        let end = *durable.borrow_and_update();
        if next < end {
            let upto = end.min(next + SCAN_CHUNK);
            let store = node.store.clone();
            let me = node.origin().clone();
            let scanned =
                tokio::task::spawn_blocking(move || scan(&store, next, upto, peer, &me)).await;
            let items = match scanned {
                Ok(Ok(items)) => items,
                Ok(Err(e)) => {
                    let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                    return;
                }
            };
            let last_sent = items.last().map(|i| i.position);
            for item in items {
                if tx.send(Ok(item)).await.is_err() {
                    return;
                }
            }
            if last_sent != Some(upto - 1) {
                let marker = pb::ExchangeItem {
                    position: upto - 1,
                    envelope: None,
                };
                if tx.send(Ok(marker)).await.is_err() {
                    return;
                }
            }
            next = upto;
            continue;
        }
        tokio::select! {
            r = durable.changed() => if r.is_err() { return },
            _ = stopping.changed() => return,
            _ = tx.closed() => return,
        }
    }
}

/// Log entries `from..to` that `peer` may receive.
fn scan(
    store: &Store,
    from: u64,
    to: u64,
    peer: CountryCode,
    me: &Origin,
) -> Result<Vec<pb::ExchangeItem>, StoreError> {
    let mut out = vec![];
    for item in store.log_range(from, to) {
        let (position, id) = item?;
        let entry = store
            .get(&id)?
            .ok_or_else(|| StoreError::Corrupt(format!("log points to missing record {id}")))?;
        let record = entry.record()?;
        if rules::may_send(&record, peer, me) {
            out.push(pb::ExchangeItem {
                position,
                envelope: Some(entry.envelope),
            });
        }
    }
    Ok(out)
}
