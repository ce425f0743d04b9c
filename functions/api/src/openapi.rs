//! The OpenAPI 3.1 document served at `/openapi.json`. Its paths come from the handlers' `#[utoipa::path]`
//! attributes as the router registers them (see `documented_routes` in the crate root), its schemas from the
//! `ToSchema` types those handlers take and return; this module adds only what belongs to the whole API: the
//! title, the bearer scheme and the default security requirement.

use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Scheduled investigations API",
        description = "Define a security investigation once and have it run on a schedule. Every error is JSON \
            `{\"detail\": ...}`: a sentence, or for 422 a list of `{loc, msg, type}` naming each field.",
    ),
    // The error bodies, also for the shared error responses (inlined ones do not bring their schemas along).
    components(schemas(crate::error::ErrorBody, crate::error::ValidationErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "caller", description = "Who is calling, and what this server accepts"),
        (name = "schedules", description = "Define, change, pause, resume and preview schedules"),
        (name = "runs", description = "Run a schedule now and read its run history"),
        (name = "coverage", description = "What data time the runs covered, the gaps, and backfill runs that fill them"),
        (name = "notifications", description = "What the caller was told about finished runs"),
        (name = "service", description = "Health and this document; no token needed"),
    )
)]
struct ApiDoc;

/// `Authorization: Bearer <token>`: a local `API_TOKEN`/`API_TOKENS` token, or on AWS a JWT that API Gateway's
/// authorizer has verified.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut Document) {
        doc.components.get_or_insert_with(Default::default).add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A local API token (API_TOKEN / API_TOKENS), or on AWS a JWT verified by API Gateway",
                    ))
                    .build(),
            ),
        );
    }
}

/// The parts of the document that no route owns.
pub(crate) fn base() -> Document {
    ApiDoc::openapi()
}

/// The whole document: [`base`] plus every route the router serves.
pub fn openapi() -> Document {
    crate::documented_routes().1
}
