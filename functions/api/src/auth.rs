//! Who is calling. The router is built with an [`Authenticator`]; handlers only ever see the resulting
//! [`Caller`]. Locally it maps bearer tokens to callers; in Lambda it reads the claims API Gateway's JWT
//! authorizer verified.

use crate::AppState;
use crate::error::ApiError;
use async_trait::async_trait;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use shared::domain::{Caller, Role};
use std::collections::HashMap;

#[async_trait]
pub trait Authenticator: Send + Sync {
    async fn authenticate(&self, parts: &Parts) -> Result<Caller, ApiError>;
}

/// Static bearer tokens, each bound to a user and role (local mode).
pub struct BearerTokens {
    tokens: HashMap<String, Caller>,
}

impl BearerTokens {
    pub fn new(tokens: impl IntoIterator<Item = (String, Caller)>) -> Self {
        Self { tokens: tokens.into_iter().collect() }
    }

    /// Parses `token=user:role,token2=user2:role2` (the `API_TOKENS` format).
    pub fn parse_list(list: &str) -> Result<Vec<(String, Caller)>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|entry| {
                let (token, who) = entry
                    .split_once('=')
                    .ok_or_else(|| "each API_TOKENS entry must look like token=user:role".to_owned())?;
                let (user, role) = who.split_once(':').unwrap_or((who, "analyst"));
                let (token, user) = (token.trim(), user.trim());
                if token.len() < 16 {
                    return Err(format!("API_TOKENS: the token for user {user:?} is shorter than 16 characters"));
                }
                if user.is_empty() {
                    return Err("API_TOKENS: an entry has an empty user".into());
                }
                let role: Role = role.parse().map_err(|e| format!("API_TOKENS: {e}"))?;
                Ok((token.to_owned(), Caller { user: user.to_owned(), role }))
            })
            .collect()
    }
}

#[async_trait]
impl Authenticator for BearerTokens {
    async fn authenticate(&self, parts: &Parts) -> Result<Caller, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::Unauthorized("missing bearer token (Authorization: Bearer <token>)".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'".into()))?;
        self.tokens
            .get(token.trim())
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("invalid or expired token".into()))
    }
}

/// Extracts the authenticated caller; rejects with 401.
pub struct CallerExt(pub Caller);

impl FromRequestParts<AppState> for CallerExt {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state.auth.authenticate(parts).await.map(CallerExt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_token_lists() {
        let parsed = BearerTokens::parse_list("aaaaaaaaaaaaaaaa=alice:analyst, bbbbbbbbbbbbbbbb=bob:admin").unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].1, Caller { user: "bob".into(), role: Role::Admin });
        assert!(BearerTokens::parse_list("short=alice:analyst").is_err());
        assert!(BearerTokens::parse_list("aaaaaaaaaaaaaaaa=alice:root").unwrap_err().contains("unknown role"));
        assert!(BearerTokens::parse_list("no-equals-sign").is_err());
    }
}
