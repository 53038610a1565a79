//! What every request passes through, outermost first: security headers and caching rules,
//! the client's address, the cross-site request check, the size of the body, the session, and
//! maintenance windows.

pub mod body_limit;
pub mod client_addr;
pub mod csrf;
pub mod headers;
pub mod maintenance;
pub mod search;
pub mod session;
