//! The API Lambda: the same axum router as the local product, served by `lambda_http`, with callers taken from
//! the claims API Gateway's JWT authorizer verified. Wiring only.

use api::lambda_auth::JwtClaimsAuth;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    aws_wiring::init_tracing();
    let services = aws_wiring::services_from_env().await?;
    let auth = Arc::new(JwtClaimsAuth::from_env());
    lambda_http::run(api::router(services, auth)).await
}
