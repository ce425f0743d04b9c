//! The caller on AWS: read from the JWT claims API Gateway's JWT authorizer verified and put in the request
//! context. Nothing here looks at headers (a client could forge them); a request without verified claims is 401.
//!
//! User: `oid` (Entra ID's stable object id; its `sub` is pairwise per application) or else `sub` (Cognito and
//! most other issuers). Role: `admin` when the roles claim holds the admin role, `analyst` otherwise.

use crate::auth::Authenticator;
use crate::error::ApiError;
use async_trait::async_trait;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;
use shared::domain::{Caller, Role};
use std::collections::HashMap;

/// Claims that may hold roles, in the order they are read, unless `ROLES_CLAIM` names one.
const DEFAULT_ROLES_CLAIMS: [&str; 2] = ["roles", "cognito:groups"];
/// User ids longer than this are refused: they end up in store keys.
const MAX_USER_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtClaimsAuth {
    roles_claims: Vec<String>,
    admin_role: String,
}

impl Default for JwtClaimsAuth {
    fn default() -> Self {
        Self {
            roles_claims: DEFAULT_ROLES_CLAIMS.map(String::from).to_vec(),
            admin_role: "admin".into(),
        }
    }
}

impl JwtClaimsAuth {
    /// `roles_claim`: the claim holding roles or groups (`None`: `roles`, then `cognito:groups`). `admin_role`:
    /// the value in it that makes a caller an admin.
    pub fn new(roles_claim: Option<String>, admin_role: impl Into<String>) -> Self {
        Self {
            roles_claims: roles_claim.map_or_else(|| Self::default().roles_claims, |c| vec![c]),
            admin_role: admin_role.into(),
        }
    }

    /// From `ROLES_CLAIM` and `ADMIN_ROLE` (default `admin`).
    pub fn from_env() -> Self {
        use shared::config::{process_env, var};
        Self::new(
            var(&process_env, "ROLES_CLAIM"),
            var(&process_env, "ADMIN_ROLE").unwrap_or_else(|| "admin".into()),
        )
    }

    /// The caller the claims describe.
    pub fn caller_from_claims(&self, claims: &HashMap<String, String>) -> Result<Caller, ApiError> {
        let user = ["oid", "sub"]
            .iter()
            .filter_map(|c| claims.get(*c))
            .map(|v| v.trim())
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
            .filter_map(|c| claims.get(c))
            .any(|value| claim_values(value).contains(&self.admin_role));
        Ok(Caller {
            user: user.to_owned(),
            role: if is_admin { Role::Admin } else { Role::Analyst },
        })
    }
}

#[async_trait]
impl Authenticator for JwtClaimsAuth {
    async fn authenticate(&self, parts: &Parts) -> Result<Caller, ApiError> {
        let claims = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(context)) => context
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|jwt| &jwt.claims),
            _ => None,
        };
        match claims {
            Some(claims) if !claims.is_empty() => self.caller_from_claims(claims),
            _ => Err(ApiError::Unauthorized(
                "no verified JWT claims in the request context".into(),
            )),
        }
    }
}

/// The values of a list claim. HTTP APIs pass claims as strings: an array arrives as `[a b]` (space separated,
/// the authorizer's rendering), and some issuers send a JSON array or a comma-separated string.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_user_and_role_from_claims() {
        let auth = JwtClaimsAuth::default();
        let c = auth
            .caller_from_claims(&claims(&[
                ("sub", "s-1"),
                ("oid", "o-1"),
                ("roles", "[analyst admin]"),
            ]))
            .unwrap();
        assert_eq!(
            c,
            Caller {
                user: "o-1".into(),
                role: Role::Admin
            }
        );
        let c = auth
            .caller_from_claims(&claims(&[
                ("sub", "s-1"),
                ("cognito:groups", "[\"admin\"]"),
            ]))
            .unwrap();
        assert_eq!(
            c,
            Caller {
                user: "s-1".into(),
                role: Role::Admin
            }
        );
        let c = auth
            .caller_from_claims(&claims(&[("sub", "s-1"), ("roles", "[administrators]")]))
            .unwrap();
        assert_eq!(
            c.role,
            Role::Analyst,
            "a role merely containing the word is not the admin role"
        );
        assert!(
            auth.caller_from_claims(&claims(&[("roles", "[admin]")]))
                .is_err()
        );
    }

    #[test]
    fn the_roles_claim_and_admin_role_are_configurable() {
        let auth = JwtClaimsAuth::new(Some("groups".into()), "soc-admins");
        let c = auth
            .caller_from_claims(&claims(&[("sub", "u"), ("groups", "readers,soc-admins")]))
            .unwrap();
        assert_eq!(c.role, Role::Admin);
        let c = auth
            .caller_from_claims(&claims(&[("sub", "u"), ("roles", "[soc-admins]")]))
            .unwrap();
        assert_eq!(c.role, Role::Analyst, "only the configured claim counts");
    }
}
