//! `AUTH_MODE=oidc` end to end: the local runner in-process, an OpenID provider's discovery document and JWKS
//! served on loopback by this test (with keys it generates, counting the JWKS fetches), and JWTs it signs. A good
//! token is the right caller and role; a token for another audience, an expired one, one signed by a key the issuer
//! does not publish, one from another issuer and an HMAC-signed one are 401; an unknown key makes the runner fetch
//! the JWKS again, but not more than once per refresh interval; the UI is told to sign in with the issuer.

use anyhow::{Context, Result, ensure};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use axum::Json;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const AUDIENCE: &str = "api://scheduled-investigations";
const CLIENT_ID: &str = "ui-client";

/// A P-256 signing key: its private half for signing, its public half as a JWK.
struct SigningKey {
    kid: String,
    pkcs8: Vec<u8>,
    jwk: Value,
}

impl SigningKey {
    fn generate(kid: &str) -> Result<Self> {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|e| anyhow::anyhow!("key generation: {e}"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|e| anyhow::anyhow!("key parsing: {e}"))?;
        // Uncompressed point: 0x04 || x || y.
        let point = pair.public_key().as_ref();
        ensure!(
            point.len() == 65 && point[0] == 4,
            "unexpected public key encoding"
        );
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        Ok(Self {
            kid: kid.to_owned(),
            pkcs8: pkcs8.as_ref().to_vec(),
            jwk,
        })
    }

    fn sign(&self, claims: &Value) -> Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(encode(
            &header,
            claims,
            &EncodingKey::from_ec_der(&self.pkcs8),
        )?)
    }
}

/// The provider's two documents on a loopback port; `jwks_fetches` counts the JWKS requests.
struct Provider {
    issuer: String,
    jwks_fetches: Arc<AtomicUsize>,
}

async fn start_provider(published: Vec<Value>) -> Result<Provider> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let issuer = format!("http://{}/tenant", listener.local_addr()?);
    let jwks_fetches = Arc::new(AtomicUsize::new(0));
    let discovery = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/keys"),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    let counter = jwks_fetches.clone();
    let app = axum::Router::new()
        .route(
            "/tenant/.well-known/openid-configuration",
            get(move || {
                let discovery = discovery.clone();
                async move { Json(discovery) }
            }),
        )
        .route(
            "/tenant/keys",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let keys = published.clone();
                async move { Json(json!({ "keys": keys })) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Provider {
        issuer,
        jwks_fetches,
    })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// The claims of a good access token for `sub`, with `extra` merged in.
fn claims(issuer: &str, sub: &str, extra: Value) -> Value {
    let mut c = json!({
        "iss": issuer, "aud": AUDIENCE, "sub": sub, "scope": "openid api",
        "iat": now(), "nbf": now(), "exp": now() + 600,
    });
    for (k, v) in extra.as_object().expect("an object") {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

/// The runner in-process in `AUTH_MODE=oidc` against `issuer`.
async fn start_runner(
    issuer: &str,
    data_dir: &std::path::Path,
) -> Result<(local::AppHandle, String)> {
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATA_DIR", data_dir.display().to_string()),
        ("LISTEN_ADDR", "127.0.0.1:0".into()),
        ("AUTH_MODE", "oidc".into()),
        ("OIDC_ISSUER", issuer.into()),
        ("OIDC_AUDIENCE", format!("other-api, {AUDIENCE}")),
        ("OIDC_CLIENT_ID", CLIENT_ID.into()),
        ("OIDC_SCOPES", "openid profile api".into()),
        ("ROLES_CLAIM", "groups".into()),
        ("ADMIN_ROLE", "soc-admins".into()),
        ("DISPATCH_INTERVAL_SECS", "3600".into()),
        ("STATUS_CHECK_INTERVAL_SECS", "3600".into()),
    ]);
    let config = local::LocalConfig::from_lookup(|name| vars.get(name).cloned())?;
    ensure!(config.tokens.is_empty(), "no static tokens in oidc mode");
    let app = local::App::build(config).await?.spawn();
    let base = format!("http://{}", app.addr());
    Ok((app, base))
}

async fn me(http: &reqwest::Client, base: &str, token: &str) -> Result<(StatusCode, Value)> {
    let res = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = res.status();
    Ok((status, res.json().await.context("a JSON body")?))
}

#[tokio::test]
async fn the_runner_verifies_the_issuers_jwts_itself() -> Result<()> {
    let published = SigningKey::generate("key-1")?;
    let unpublished = SigningKey::generate("key-2")?;
    let provider = start_provider(vec![published.jwk.clone()]).await?;
    let data = tempfile::tempdir()?;
    let (app, base) = start_runner(&provider.issuer, data.path()).await?;
    let http = reqwest::Client::new();
    let iss = provider.issuer.as_str();

    // A good analyst token: the caller is its subject.
    let token = published.sign(&claims(
        iss,
        "analyst-7",
        json!({ "groups": ["soc-readers"] }),
    ))?;
    let (status, body) = me(&http, &base, &token).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"], "analyst-7");
    assert_eq!(body["role"], "analyst");
    // An admin by the configured roles claim and role; Entra's `oid` wins over `sub`.
    let token = published.sign(&claims(
        iss,
        "pairwise-sub",
        json!({ "oid": "admin-oid", "groups": ["soc-readers", "soc-admins"] }),
    ))?;
    let (status, body) = me(&http, &base, &token).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["user"].as_str(), body["role"].as_str()),
        (Some("admin-oid"), Some("admin"))
    );
    // Cognito's access tokens: no `aud`, the audience is in `client_id`.
    let token = published.sign(&claims(
        iss,
        "cognito-user",
        json!({ "aud": null, "client_id": AUDIENCE }),
    ))?;
    assert_eq!(me(&http, &base, &token).await?.0, StatusCode::OK);
    // Within the leeway: expired 20 s ago still passes (clock skew), as does a token valid from 20 s on.
    let token = published.sign(&claims(
        iss,
        "skewed",
        json!({ "exp": now() - 20, "nbf": now() + 20 }),
    ))?;
    assert_eq!(me(&http, &base, &token).await?.0, StatusCode::OK);
    assert_eq!(
        provider.jwks_fetches.load(Ordering::SeqCst),
        1,
        "the keys are cached"
    );

    // Each bad token is 401 with a reason.
    let refused = [
        (
            "wrong audience",
            published.sign(&claims(iss, "u", json!({ "aud": "someone-else" })))?,
        ),
        (
            "wrong client_id",
            published.sign(&claims(
                iss,
                "u",
                json!({ "aud": null, "client_id": "someone-else" }),
            ))?,
        ),
        (
            "expired",
            published.sign(&claims(iss, "u", json!({ "exp": now() - 3600 })))?,
        ),
        (
            "not yet valid",
            published.sign(&claims(iss, "u", json!({ "nbf": now() + 3600 })))?,
        ),
        (
            "other issuer",
            published.sign(&claims("https://evil.example", "u", json!({})))?,
        ),
        (
            "no subject",
            published.sign(&claims(iss, "u", json!({ "sub": null })))?,
        ),
        (
            "unknown key",
            unpublished.sign(&claims(iss, "u", json!({})))?,
        ),
        (
            "unknown key again",
            unpublished.sign(&claims(iss, "v", json!({})))?,
        ),
        (
            "HMAC with the public key as secret",
            encode(
                &Header {
                    kid: Some("key-1".into()),
                    ..Header::new(Algorithm::HS256)
                },
                &claims(iss, "u", json!({})),
                &EncodingKey::from_secret(published.jwk.to_string().as_bytes())?,
            )?,
        ),
        ("not a JWT", "opaque-access-token-0123456789".to_owned()),
    ];
    for (what, token) in &refused {
        let (status, body) = me(&http, &base, token).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {body}"
        );
    }
    // The first unknown kid made the runner fetch the keys again (a rotation would be seen); the second, moments
    // later, did not: refreshes are rate-limited, so junk kids cannot make it hammer the issuer.
    assert_eq!(provider.jwks_fetches.load(Ordering::SeqCst), 2);
    // A request without a token is 401 too, and the API is closed on every route.
    let res = http.get(format!("{base}/api/v1/schedules")).send().await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The page is public and the UI is told to sign in with the issuer; its CSP lets it reach the issuer only.
    let res = http.get(format!("{base}/")).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()?
        .to_owned();
    let origin = iss.trim_end_matches("/tenant");
    assert!(
        csp.contains(&format!("connect-src 'self' {origin};")),
        "{csp}"
    );
    let config: Value = http
        .get(format!("{base}/ui/config.json"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        config,
        json!({ "mode": "oidc", "issuer": iss, "client_id": CLIENT_ID, "scopes": "openid profile api" })
    );

    app.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn a_key_the_issuer_rotates_in_is_picked_up() -> Result<()> {
    // The JWKS publishes key-1 at first; key-2 is added later (the provider rotates). The runner has cached the
    // first set; a token naming key-2 makes it fetch again and then verify.
    let first = SigningKey::generate("key-1")?;
    let second = SigningKey::generate("key-2")?;
    let keys = Arc::new(std::sync::Mutex::new(vec![first.jwk.clone()]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let issuer = format!("http://{}", listener.local_addr()?);
    let served = keys.clone();
    let discovery = json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks") });
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let d = discovery.clone();
                async move { Json(d) }
            }),
        )
        .route(
            "/jwks",
            get(move || {
                let keys = served.lock().unwrap().clone();
                async move { Json(json!({ "keys": keys })) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let data = tempfile::tempdir()?;
    let (runner, base) = start_runner(&issuer, data.path()).await?;
    let http = reqwest::Client::new();

    let token = first.sign(&claims(&issuer, "u1", json!({})))?;
    assert_eq!(me(&http, &base, &token).await?.0, StatusCode::OK);
    keys.lock().unwrap().push(second.jwk.clone());
    let token = second.sign(&claims(&issuer, "u2", json!({})))?;
    let (status, body) = me(&http, &base, &token).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"], "u2");

    runner.shutdown().await?;
    Ok(())
}

#[test]
fn oidc_mode_needs_its_settings() {
    let config = |pairs: &[(&str, &str)]| {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        local::LocalConfig::from_lookup(|name| vars.get(name).cloned())
            .err()
            .map(|e| e.to_string())
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let missing = config(&[
        ("DATA_DIR", &data),
        ("AUTH_MODE", "oidc"),
        ("OIDC_ISSUER", "https://idp.example"),
    ]);
    assert!(
        missing
            .as_deref()
            .is_some_and(|e| e.contains("OIDC_AUDIENCE")),
        "{missing:?}"
    );
    let bad = config(&[("DATA_DIR", &data), ("AUTH_MODE", "saml")]);
    assert!(
        bad.as_deref().is_some_and(|e| e.contains("AUTH_MODE")),
        "{bad:?}"
    );
    assert_eq!(
        config(&[("DATA_DIR", &data)]),
        None,
        "token mode needs nothing"
    );
}
