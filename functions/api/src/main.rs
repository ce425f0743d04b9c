//! The API Lambda: the same axum router as the local product, served by `lambda_http`, with callers taken from
//! the claims API Gateway's JWT authorizer verified, and the web UI with OpenID Connect sign-in. Wiring only.

use api::lambda_auth::JwtClaimsAuth;
use http_body_util::{BodyExt, Full};
use lambda_http::{Error, Request, Response, service_fn};
use std::sync::Arc;
use tower::ServiceExt;

#[tokio::main]
async fn main() -> Result<(), Error> {
    aws_wiring::init_tracing();
    let emf: &'static _ = Box::leak(Box::new(aws_wiring::Emf::install("api")));
    let config = aws_wiring::config_or_exit();
    let services = aws_wiring::services(&config).await?;
    let auth = Arc::new(JwtClaimsAuth::from_env());
    // The web UI is served too: API Gateway routes its page and assets here without an authorizer.
    let sign_in = match api::ui::SignIn::lambda_from_lookup(&shared::config::process_env) {
        Ok(sign_in) => sign_in,
        Err(e) => {
            tracing::error!(error = %e, "bad sign-in settings for the web UI");
            std::process::exit(2);
        }
    };
    let app = api::router_with_ui(services, auth, &sign_in);
    // Concurrent when AWS_LAMBDA_MAX_CONCURRENCY is above 1 (Lambda Managed Instances, cargo-lambda), else
    // sequential as on classic Lambda. Concurrent invocations need a `Sync` response body, so the router's answer
    // is buffered here (lambda_http buffers it for API Gateway anyway).
    lambda_http::run_concurrent(service_fn(move |request: Request| {
        let app = app.clone();
        async move {
            let answer = aws_wiring::flushed(emf.as_ref(), app.oneshot(request)).await;
            let (parts, body) = answer?.into_parts();
            let body = Full::new(body.collect().await?.to_bytes());
            Ok::<_, Error>(Response::from_parts(parts, body))
        }
    }))
    .await
}
