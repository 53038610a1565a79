//! What every request passes through, outermost first: security headers and caching rules,
//! the client's address, the cross-site request check, the size of the body, and the session.

pub mod body_limit;
pub mod client_addr;
pub mod csrf;
pub mod headers;
pub mod session;
