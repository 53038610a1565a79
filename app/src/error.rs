//! The one error type of server functions. Every message is safe to show to the user: no
//! internal detail, no personal data. Causes are logged (without personal data) on the server.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    NotSignedIn,
    #[error("You do not have access to this page.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("Something went wrong on our side. Please try again, or call the office.")]
    Internal,
    #[error("The request could not be completed. Please reload the page and try again.")]
    Request,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::ServerError(_) => AppError::Internal,
            _ => AppError::Request,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        // Database messages can quote the values involved; log only what kind of failure it was.
        match &e {
            sqlx::Error::Database(db) => tracing::error!(
                code = ?db.code(),
                constraint = ?db.constraint(),
                "database error"
            ),
            other => tracing::error!(kind = %error_kind(other), "database error"),
        }
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
fn error_kind(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::PoolTimedOut => "pool timed out",
        sqlx::Error::PoolClosed => "pool closed",
        sqlx::Error::Io(_) => "io",
        sqlx::Error::RowNotFound => "row not found",
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => "decode",
        sqlx::Error::Protocol(_) => "protocol",
        _ => "other",
    }
}
