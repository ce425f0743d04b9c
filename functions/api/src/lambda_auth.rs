//! The caller on AWS: read from the JWT claims API Gateway's JWT authorizer verified and put in the request
//! context. Nothing here looks at headers (a client could forge them); a request without verified claims is 401.
//! The claims become a caller through [`ClaimsMapping`], the same mapping as the local runner's OIDC mode.

use crate::auth::{Authenticator, ClaimsMapping};
use crate::error::ApiError;
use async_trait::async_trait;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;
use shared::domain::Caller;
use std::collections::HashMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwtClaimsAuth {
    mapping: ClaimsMapping,
}

impl JwtClaimsAuth {
    /// `roles_claim`: the claim holding roles or groups (`None`: `roles`, then `cognito:groups`). `admin_role`:
    /// the value in it that makes a caller an admin.
    pub fn new(roles_claim: Option<String>, admin_role: impl Into<String>) -> Self {
        Self {
            mapping: ClaimsMapping::new(roles_claim, admin_role),
        }
    }

    /// From `ROLES_CLAIM` and `ADMIN_ROLE` (default `admin`).
    pub fn from_env() -> Self {
        Self {
            mapping: ClaimsMapping::from_lookup(&shared::config::process_env),
        }
    }

    /// The caller the claims describe.
    pub fn caller_from_claims(&self, claims: &HashMap<String, String>) -> Result<Caller, ApiError> {
        self.mapping.caller(claims)
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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::Role;

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
