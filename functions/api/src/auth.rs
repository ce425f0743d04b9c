//! Who is calling. The router is built with an [`Authenticator`]; handlers only ever see the resulting
//! [`Caller`]. Locally it maps bearer tokens to callers (or verifies JWTs, `AUTH_MODE=oidc`); in Lambda it reads
//! the claims API Gateway's JWT authorizer verified. Both JWT paths map claims with the one [`ClaimsMapping`].

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
        Self {
            tokens: tokens.into_iter().collect(),
        }
    }

    /// Parses `token=user:role,token2=user2:role2` (the `API_TOKENS` format).
    pub fn parse_list(list: &str) -> Result<Vec<(String, Caller)>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|entry| {
                let (token, who) = entry.split_once('=').ok_or_else(|| {
                    "each API_TOKENS entry must look like token=user:role".to_owned()
                })?;
                let (user, role) = who.split_once(':').unwrap_or((who, "analyst"));
                let (token, user) = (token.trim(), user.trim());
                if token.len() < 16 {
                    return Err(format!(
                        "API_TOKENS: the token for user {user:?} is shorter than 16 characters"
                    ));
                }
                if user.is_empty() {
                    return Err("API_TOKENS: an entry has an empty user".into());
                }
                let role: Role = role.parse().map_err(|e| format!("API_TOKENS: {e}"))?;
                Ok((
                    token.to_owned(),
                    Caller {
                        user: user.to_owned(),
                        role,
                    },
                ))
            })
            .collect()
    }
}

#[async_trait]
impl Authenticator for BearerTokens {
    async fn authenticate(&self, parts: &Parts) -> Result<Caller, ApiError> {
        self.tokens
            .get(bearer_token(parts)?)
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("invalid or expired token".into()))
    }
}

/// Claims that may hold roles, in the order they are read, unless `ROLES_CLAIM` names one.
const DEFAULT_ROLES_CLAIMS: [&str; 2] = ["roles", "cognito:groups"];
/// User ids longer than this are refused: they end up in store keys.
const MAX_USER_CHARS: usize = 256;

/// A verified token's claims, however they arrived: as the strings API Gateway's authorizer passes on AWS, or as
/// the JSON of a JWT the local runner verified itself (`AUTH_MODE=oidc`).
pub trait Claims {
    /// A claim's value as one string (`None` when absent or not a string).
    fn text(&self, name: &str) -> Option<String>;
    /// A list claim's values (a JSON array, or a string the issuer or the authorizer rendered as a list).
    fn values(&self, name: &str) -> Vec<String>;
}

/// API Gateway's rendering: every claim a string; an array arrives as `[a b]`.
impl Claims for HashMap<String, String> {
    fn text(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }

    fn values(&self, name: &str) -> Vec<String> {
        self.get(name).map(|v| claim_values(v)).unwrap_or_default()
    }
}

/// A JWT's payload as JSON.
impl Claims for serde_json::Map<String, serde_json::Value> {
    fn text(&self, name: &str) -> Option<String> {
        self.get(name).and_then(|v| v.as_str()).map(str::to_owned)
    }

    fn values(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(v)) => claim_values(v),
            _ => Vec::new(),
        }
    }
}

/// The values of a list claim rendered as a string: `[a b]` (space separated, the HTTP API authorizer's
/// rendering), a JSON array, or a comma- or space-separated string.
fn claim_values(value: &str) -> Vec<String> {
    let value = value.trim();
    if let Ok(list) = serde_json::from_str::<Vec<String>>(value) {
        return list;
    }
    value
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|v| v.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The one mapping from verified claims to a [`Caller`], on AWS and in the local runner's OIDC mode alike.
///
/// User: `oid` (Entra ID's stable object id; its `sub` is pairwise per application) or else `sub` (Cognito and
/// most other issuers). Role: `admin` when the roles claim holds the admin role, `analyst` otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsMapping {
    roles_claims: Vec<String>,
    admin_role: String,
}

impl Default for ClaimsMapping {
    fn default() -> Self {
        Self {
            roles_claims: DEFAULT_ROLES_CLAIMS.map(String::from).to_vec(),
            admin_role: "admin".into(),
        }
    }
}

impl ClaimsMapping {
    /// `roles_claim`: the claim holding roles or groups (`None`: `roles`, then `cognito:groups`). `admin_role`:
    /// the value in it that makes a caller an admin.
    pub fn new(roles_claim: Option<String>, admin_role: impl Into<String>) -> Self {
        Self {
            roles_claims: roles_claim.map_or_else(|| Self::default().roles_claims, |c| vec![c]),
            admin_role: admin_role.into(),
        }
    }

    /// From `ROLES_CLAIM` and `ADMIN_ROLE` (default `admin`).
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Self {
        use shared::config::var;
        Self::new(
            var(lookup, "ROLES_CLAIM"),
            var(lookup, "ADMIN_ROLE").unwrap_or_else(|| "admin".into()),
        )
    }

    /// The caller the claims describe.
    pub fn caller(&self, claims: &impl Claims) -> Result<Caller, ApiError> {
        let user = ["oid", "sub"]
            .iter()
            .filter_map(|c| claims.text(c))
            .map(|v| v.trim().to_owned())
            .find(|v| !v.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("the token has neither an `oid` nor a `sub` claim".into())
            })?;
        if user.chars().count() > MAX_USER_CHARS || user.chars().any(char::is_control) {
            return Err(ApiError::Unauthorized(
                "the token's subject is not a usable user id".into(),
            ));
        }
        let is_admin = self
            .roles_claims
            .iter()
            .any(|c| claims.values(c).contains(&self.admin_role));
        Ok(Caller {
            user,
            role: if is_admin { Role::Admin } else { Role::Analyst },
        })
    }
}

/// The bearer token of a request: `Authorization: Bearer <token>`, or 401 saying what is wrong.
pub fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::Unauthorized("missing bearer token (Authorization: Bearer <token>)".into())
        })?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'".into())
        })
}

/// Extracts the authenticated caller; rejects with 401.
pub struct CallerExt(pub Caller);

impl FromRequestParts<AppState> for CallerExt {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state.auth.authenticate(parts).await.map(CallerExt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_token_lists() {
        let parsed =
            BearerTokens::parse_list("aaaaaaaaaaaaaaaa=alice:analyst, bbbbbbbbbbbbbbbb=bob:admin")
                .unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            parsed[1].1,
            Caller {
                user: "bob".into(),
                role: Role::Admin
            }
        );
        assert!(BearerTokens::parse_list("short=alice:analyst").is_err());
        assert!(
            BearerTokens::parse_list("aaaaaaaaaaaaaaaa=alice:root")
                .unwrap_err()
                .contains("unknown role")
        );
        assert!(BearerTokens::parse_list("no-equals-sign").is_err());
    }
}
