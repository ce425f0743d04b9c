//! `AUTH_MODE=oidc`: the local runner verifies the JWTs of an OpenID Connect issuer itself, as API Gateway's JWT
//! authorizer does on AWS, and maps their claims to a caller with the same [`ClaimsMapping`] as the API Lambda.
//!
//! A token is accepted when its signature verifies against a key of the issuer's JWKS (found through
//! `{issuer}/.well-known/openid-configuration`, cached, fetched again when a token names an unknown `kid` but at most
//! once per [`MIN_REFRESH`]; and at least hourly), its `iss` is the issuer, its `aud` is one of the accepted audiences (or, without an
//! `aud`, its `client_id` is: Cognito's access tokens), and `exp`/`nbf` hold with [`LEEWAY_SECS`] of leeway.
//! Only asymmetric algorithms are accepted, and only the one the key is for.

use api::auth::{Authenticator, ClaimsMapping, bearer_token};
use api::error::ApiError;
use async_trait::async_trait;
use axum::http::request::Parts;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use serde_json::{Map, Value};
use shared::domain::Caller;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;
/// Tokens with unknown key ids make the JWKS be fetched again at most this often, however many arrive.
pub const MIN_REFRESH: Duration = Duration::from_secs(60);
/// Keys older than this are fetched again on the next request (a provider's rotation is seen within the hour).
const MAX_KEY_AGE: Duration = Duration::from_secs(3600);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the verifier checks tokens against (`OIDC_ISSUER`, `OIDC_AUDIENCE`, `ROLES_CLAIM`, `ADMIN_ROLE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcVerifierConfig {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub mapping: ClaimsMapping,
}

struct Key {
    key: DecodingKey,
    /// The algorithms this key may verify (its `alg`, or those of its type).
    algorithms: Vec<Algorithm>,
}

#[derive(Default)]
struct KeyCache {
    jwks_uri: Option<String>,
    keys: HashMap<String, Key>,
    /// Keys without a `kid` (used only when the set has exactly one key).
    unnamed: Vec<Key>,
    fetched_at: Option<Instant>,
    /// When a token with an unknown `kid` last made us fetch the JWKS.
    refreshed_for_unknown_kid: Option<Instant>,
}

/// Verifies bearer JWTs against the issuer's keys.
pub struct OidcVerifier {
    config: OidcVerifierConfig,
    http: reqwest::Client,
    cache: Mutex<KeyCache>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl OidcVerifier {
    pub fn new(config: OidcVerifierConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(Self {
            config,
            http,
            cache: Mutex::new(KeyCache::default()),
        })
    }

    /// The caller a bearer JWT describes, or 401 (503 when the issuer's keys cannot be had).
    pub async fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let header = decode_header(token)
            .map_err(|e| ApiError::Unauthorized(format!("the bearer token is not a JWT ({e})")))?;
        if header.alg.family() == jsonwebtoken::AlgorithmFamily::Hmac {
            return Err(ApiError::Unauthorized(
                "the token is signed with a shared secret; only the issuer's public keys are accepted".into(),
            ));
        }
        let (key, algorithms) = self.key_for(header.kid.as_deref()).await?;
        if !algorithms.contains(&header.alg) {
            return Err(ApiError::Unauthorized(format!(
                "the token's algorithm {:?} is not the one its key is for",
                header.alg
            )));
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        // The audience is checked below, as API Gateway's authorizer does it (aud, or else client_id).
        validation.validate_aud = false;
        let claims = decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| ApiError::Unauthorized(format!("the token was refused: {e}")))?
            .claims;
        self.check_audience(&claims)?;
        self.config.mapping.caller(&claims)
    }

    fn check_audience(&self, claims: &Map<String, Value>) -> Result<(), ApiError> {
        let accepted = |v: &str| self.config.audiences.iter().any(|a| a == v);
        let ok = match claims.get("aud") {
            Some(Value::String(aud)) => accepted(aud),
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(accepted),
            Some(_) => false,
            None => claims
                .get("client_id")
                .and_then(Value::as_str)
                .is_some_and(accepted),
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::Unauthorized(
                "the token is not meant for this API (its aud / client_id is not an accepted audience)".into(),
            ))
        }
    }

    /// The key for `kid`, fetching the JWKS when it is not cached yet, is stale, or lacks `kid` (rate-limited).
    async fn key_for(&self, kid: Option<&str>) -> Result<(DecodingKey, Vec<Algorithm>), ApiError> {
        let mut cache = self.cache.lock().await;
        let stale = cache.fetched_at.is_none_or(|at| at.elapsed() > MAX_KEY_AGE);
        let may_refresh = cache
            .refreshed_for_unknown_kid
            .is_none_or(|at| at.elapsed() >= MIN_REFRESH);
        let found = |cache: &KeyCache| -> Option<(DecodingKey, Vec<Algorithm>)> {
            let key = match kid {
                Some(kid) => cache.keys.get(kid),
                None if cache.keys.len() + cache.unnamed.len() == 1 => {
                    cache.keys.values().chain(cache.unnamed.iter()).next()
                }
                None => None,
            }?;
            Some((key.key.clone(), key.algorithms.clone()))
        };
        if !stale && let Some(hit) = found(&cache) {
            return Ok(hit);
        }
        if stale || may_refresh {
            if !stale {
                cache.refreshed_for_unknown_kid = Some(Instant::now());
            }
            match self.fetch_keys(&mut cache).await {
                Ok(()) => {}
                // Stale keys still verify tokens while the issuer is unreachable.
                Err(e) if found(&cache).is_some() => {
                    tracing::warn!(error = %e, "cannot refresh the issuer's keys; using the cached ones")
                }
                Err(e) => return Err(e),
            }
        }
        found(&cache).ok_or_else(|| {
            ApiError::Unauthorized(match kid {
                Some(kid) => format!(
                    "the token is signed with a key the issuer does not publish (kid {kid:?})"
                ),
                None => "the token names no key (kid) and the issuer publishes several".into(),
            })
        })
    }

    async fn fetch_keys(&self, cache: &mut KeyCache) -> Result<(), ApiError> {
        // Counted as a fetch even when it fails, so an unreachable issuer is not asked on every request.
        cache.fetched_at = Some(Instant::now());
        let unavailable = |what: &str, e: &dyn std::fmt::Display| {
            tracing::warn!(error = %e, issuer = %self.config.issuer, "cannot fetch the issuer's {what}");
            ApiError::Unavailable(format!(
                "cannot fetch the identity provider's {what}; try again shortly"
            ))
        };
        let jwks_uri = match &cache.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.config.issuer.trim_end_matches('/')
                );
                let discovery: Discovery = self
                    .get_json(&url)
                    .await
                    .map_err(|e| unavailable("OpenID configuration", &e))?;
                if discovery.issuer != self.config.issuer {
                    return Err(unavailable(
                        "OpenID configuration",
                        &format!(
                            "it names issuer {:?}, not {:?}",
                            discovery.issuer, self.config.issuer
                        ),
                    ));
                }
                cache.jwks_uri = Some(discovery.jwks_uri.clone());
                discovery.jwks_uri
            }
        };
        let set: JwkSet = self
            .get_json(&jwks_uri)
            .await
            .map_err(|e| unavailable("signing keys (JWKS)", &e))?;
        cache.keys.clear();
        cache.unnamed.clear();
        for jwk in &set.keys {
            let Some(key) = usable_key(jwk) else { continue };
            match &jwk.common.key_id {
                Some(kid) => {
                    cache.keys.insert(kid.clone(), key);
                }
                None => cache.unnamed.push(key),
            }
        }
        tracing::info!(
            keys = cache.keys.len() + cache.unnamed.len(),
            "fetched the issuer's signing keys"
        );
        Ok(())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, reqwest::Error> {
        self.http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

/// A JWK that can verify signatures: a public key (not a shared secret) meant for signing, with the algorithms it
/// may verify.
fn usable_key(jwk: &Jwk) -> Option<Key> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, PublicKeyUse};
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(_) => vec![Algorithm::EdDSA],
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        Some(alg) => match key_algorithm(alg) {
            Some(alg) if by_type.contains(&alg) => vec![alg],
            _ => return None,
        },
        None => by_type,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(Key { key, algorithms })
}

fn key_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Algorithm::from_str(&format!("{alg:?}")).ok()
}

#[async_trait]
impl Authenticator for OidcVerifier {
    async fn authenticate(&self, parts: &Parts) -> Result<Caller, ApiError> {
        self.verify(bearer_token(parts)?).await
    }
}
