//! The client's address, for the audit trail and per-address throttling. Behind a load
//! balancer (`PORTAL_TRUST_PROXY=true`) it is the last address the balancer appended to
//! `X-Forwarded-For`; otherwise the socket's peer.

use app::platform::request::ClientAddr;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use std::net::{IpAddr, SocketAddr};

#[derive(Clone, Copy)]
pub struct TrustProxy(pub bool);

pub async fn client_addr(State(TrustProxy(trust)): State<TrustProxy>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded = trust
        .then(|| {
            req.headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
                .and_then(|a| a.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    if let Some(addr) = forwarded.or(peer) {
        req.extensions_mut().insert(ClientAddr(addr));
    }
    next.run(req).await
}
