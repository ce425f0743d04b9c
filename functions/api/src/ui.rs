//! The web UI: static files embedded in the binary and served by the same router as the API, so the UI works in
//! the local runner and behind API Gateway alike, with nothing fetched from the internet and no build step. The
//! script is a set of ES modules (`ui/app.js` imports the rest); the browser loads each one from [`MODULES`], which
//! must therefore list every `.js` file under `ui/` (a test checks it against the directory and the imports).
//!
//! The page (`GET /`) and everything under `/ui/` are public: they hold no data, and a browser navigating to a page
//! sends no `Authorization` header. Everything they show comes from the API under bearer auth. `GET /ui/config.json`
//! tells the UI how to sign in ([`SignIn`]): with a pasted bearer token (the local runner's default) or with OpenID
//! Connect (authorization code with PKCE, `ui/auth.js`). It is deliberately not in the OpenAPI document: like the
//! scripts it is part of the UI, a contract between this server and the UI it ships, not API for other clients.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use shared::config::{ConfigError, var};

const INDEX_HTML: &str = include_str!("../ui/index.html");
const APP_CSS: &str = include_str!("../ui/app.css");
/// The licence of the vendored OpenID Connect library (`ui/vendor/oauth4webapi.js`, MIT), served beside it.
const OAUTH_LICENSE: &str = include_str!("../ui/vendor/oauth4webapi.LICENSE.md");
/// Module scripts are only run when served with a JavaScript MIME type (and `nosniff` forbids guessing).
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Every ES module of the UI: the path the page or another module imports it from, and its text.
pub const MODULES: &[(&str, &str)] = &[
    ("/ui/app.js", include_str!("../ui/app.js")),
    ("/ui/api.js", include_str!("../ui/api.js")),
    ("/ui/auth.js", include_str!("../ui/auth.js")),
    ("/ui/dom.js", include_str!("../ui/dom.js")),
    ("/ui/format.js", include_str!("../ui/format.js")),
    ("/ui/router.js", include_str!("../ui/router.js")),
    ("/ui/server.js", include_str!("../ui/server.js")),
    (
        "/ui/views/coverage.js",
        include_str!("../ui/views/coverage.js"),
    ),
    ("/ui/views/detail.js", include_str!("../ui/views/detail.js")),
    (
        "/ui/views/findings.js",
        include_str!("../ui/views/findings.js"),
    ),
    ("/ui/views/form.js", include_str!("../ui/views/form.js")),
    (
        "/ui/views/history.js",
        include_str!("../ui/views/history.js"),
    ),
    ("/ui/views/list.js", include_str!("../ui/views/list.js")),
    (
        "/ui/views/notifications.js",
        include_str!("../ui/views/notifications.js"),
    ),
    ("/ui/views/parts.js", include_str!("../ui/views/parts.js")),
    ("/ui/views/signin.js", include_str!("../ui/views/signin.js")),
    ("/ui/views/token.js", include_str!("../ui/views/token.js")),
    // oauth4webapi 3.8.8 (npm), verbatim; tests/ui/signin.test.mjs checks it against the package pinned in
    // tests/ui/package.json, and its licence is served beside it.
    (
        "/ui/vendor/oauth4webapi.js",
        include_str!("../ui/vendor/oauth4webapi.js"),
    ),
];

/// Only our own origin may provide scripts, styles, images and API calls; no inline script or style, no plugins, no
/// framing. The UI renders API strings with `textContent`, and this policy is the second line of defence. With
/// OpenID Connect sign-in, `connect-src` also names the identity provider's origins (see [`SignIn::csp`]).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// How the UI signs in, as `GET /ui/config.json` tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum SignIn {
    /// The user pastes a bearer token (the local runner's `API_TOKEN` / `API_TOKENS`).
    Token,
    /// OpenID Connect, authorization code flow with PKCE, as a public client.
    Oidc(OidcSignIn),
    /// No way to sign in is configured (on AWS: `UiClientId` is empty); the UI says so.
    Unconfigured,
}

/// The UI's OpenID Connect settings (`OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_SCOPES`, `OIDC_RESOURCE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OidcSignIn {
    /// The issuer identifier; the UI discovers the provider at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Space-separated; always includes `openid`.
    pub scopes: String,
    /// RFC 8707 resource indicator sent with the authorization request, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Origins the UI calls during sign-in: the issuer's plus `OIDC_EXTRA_ORIGINS` (e.g. Cognito's domain, where
    /// its token endpoint lives). Not sent: they go into the Content-Security-Policy.
    #[serde(skip)]
    pub origins: Vec<String>,
}

impl OidcSignIn {
    /// Reads the settings; `Ok(None)` when `OIDC_CLIENT_ID` is unset. The issuer must be an http(s) URL.
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(client_id) = var(lookup, "OIDC_CLIENT_ID") else {
            return Ok(None);
        };
        let issuer = var(lookup, "OIDC_ISSUER").ok_or_else(|| {
            ConfigError("OIDC_ISSUER is not set (OIDC_CLIENT_ID needs an issuer)".into())
        })?;
        let mut origins =
            vec![origin_of(&issuer).map_err(|e| ConfigError(format!("OIDC_ISSUER: {e}")))?];
        for extra in var(lookup, "OIDC_EXTRA_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            let origin =
                origin_of(extra).map_err(|e| ConfigError(format!("OIDC_EXTRA_ORIGINS: {e}")))?;
            if origin != extra.trim_end_matches('/') {
                return Err(ConfigError(format!(
                    "OIDC_EXTRA_ORIGINS: {extra:?} is not an origin (scheme://host[:port], no path)"
                )));
            }
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        let scopes = var(lookup, "OIDC_SCOPES").unwrap_or_else(|| "openid profile email".into());
        if scopes
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            return Err(ConfigError("OIDC_SCOPES: scopes are printable characters without quotes or backslashes, separated by spaces".into()));
        }
        let mut scopes: Vec<&str> = scopes.split_whitespace().collect();
        if !scopes.contains(&"openid") {
            scopes.insert(0, "openid");
        }
        Ok(Some(Self {
            issuer,
            client_id,
            scopes: scopes.join(" "),
            resource: var(lookup, "OIDC_RESOURCE"),
            origins,
        }))
    }
}

/// `scheme://host[:port]` of an http(s) URL, checked to hold nothing that could break out of a CSP source.
fn origin_of(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(scheme, _)| matches!(*scheme, "https" | "http"))
        .ok_or_else(|| format!("{url:?} is not an http(s) URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let well_formed = !authority.is_empty()
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !well_formed {
        return Err(format!("{url:?} has no usable host"));
    }
    Ok(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

impl SignIn {
    /// On AWS: OpenID Connect against `OIDC_ISSUER` when `OIDC_CLIENT_ID` (the `UiClientId` parameter) is set.
    pub fn lambda_from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Ok(OidcSignIn::from_lookup(lookup)?.map_or(SignIn::Unconfigured, SignIn::Oidc))
    }

    /// The page's Content-Security-Policy: [`CONTENT_SECURITY_POLICY`] with the provider's origins in
    /// `connect-src` (discovery, token endpoint); nothing else changes.
    pub fn csp(&self) -> String {
        match self {
            SignIn::Oidc(oidc) => CONTENT_SECURITY_POLICY.replace(
                "connect-src 'self'",
                &format!("connect-src 'self' {}", oidc.origins.join(" ")),
            ),
            SignIn::Token | SignIn::Unconfigured => CONTENT_SECURITY_POLICY.to_owned(),
        }
    }
}

/// `GET /` (the page), `GET /ui/app.css`, `GET /ui/config.json`, the library's licence and each of [`MODULES`].
pub fn routes<S: Clone + Send + Sync + 'static>(sign_in: &SignIn) -> Router<S> {
    let csp = HeaderValue::from_str(&sign_in.csp()).expect("origins are checked to be header-safe");
    let config = Bytes::from(serde_json::to_vec(sign_in).expect("the sign-in settings serialise"));
    let serve = move |body: Bytes, content_type: &'static str| {
        let csp = csp.clone();
        get(move || async move { asset(body, content_type, csp) })
    };
    let text = Bytes::from_static;
    let router = Router::new()
        .route(
            "/",
            serve(text(INDEX_HTML.as_bytes()), "text/html; charset=utf-8"),
        )
        .route(
            "/ui/app.css",
            serve(text(APP_CSS.as_bytes()), "text/css; charset=utf-8"),
        )
        .route("/ui/config.json", serve(config, "application/json"))
        .route(
            "/ui/vendor/oauth4webapi.LICENSE.md",
            serve(text(OAUTH_LICENSE.as_bytes()), "text/plain; charset=utf-8"),
        );
    MODULES.iter().fold(router, |router, &(path, body)| {
        router.route(path, serve(text(body.as_bytes()), JAVASCRIPT))
    })
}

fn asset(body: Bytes, content_type: &'static str, csp: HeaderValue) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The assets change with every release and are small: revalidate rather than serve a stale UI against
            // a newer API.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, csp),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn get_path(path: &str) -> Response {
        routes::<()>(&SignIn::Token)
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    fn header_of(res: &Response, name: header::HeaderName) -> &str {
        res.headers().get(name).unwrap().to_str().unwrap()
    }

    #[tokio::test]
    async fn serves_each_asset_with_its_content_type_and_security_headers() {
        // Each module is served as it is embedded, whole.
        let modules = MODULES
            .iter()
            .map(|&(path, source)| (path, JAVASCRIPT, source));
        for (path, content_type, expected) in [
            ("/", "text/html; charset=utf-8", INDEX_HTML),
            ("/ui/app.css", "text/css; charset=utf-8", APP_CSS),
            ("/ui/config.json", "application/json", r#"{"mode":"token"}"#),
            (
                "/ui/vendor/oauth4webapi.LICENSE.md",
                "text/plain; charset=utf-8",
                OAUTH_LICENSE,
            ),
        ]
        .into_iter()
        .chain(modules)
        {
            let res = get_path(path).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(
                header_of(&res, header::CONTENT_TYPE),
                content_type,
                "{path}"
            );
            assert_eq!(header_of(&res, header::CACHE_CONTROL), "no-cache", "{path}");
            let csp = header_of(&res, header::CONTENT_SECURITY_POLICY);
            assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert_eq!(header_of(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
            let text = String::from_utf8(body.to_vec()).unwrap();
            assert!(!text.is_empty() && text == expected, "{path} body");
        }
    }

    #[tokio::test]
    async fn the_page_loads_only_same_origin_assets() {
        // An absolute URL in the page would break the offline promise and the CSP.
        assert!(!INDEX_HTML.contains("http://") && !INDEX_HTML.contains("https://"));
        assert!(INDEX_HTML.contains("<script type=\"module\" src=\"/ui/app.js\"></script>"));
        assert!(INDEX_HTML.contains("href=\"/ui/app.css\""));
        // Inline scripts and styles would be blocked by the CSP anyway; keep the page free of them.
        assert!(!INDEX_HTML.contains("<script>") && !INDEX_HTML.contains("style="));
    }

    /// The `from '...'` specifiers of a module's static imports.
    fn imports_of(source: &str) -> Vec<&str> {
        source
            .lines()
            .filter(|line| line.starts_with("import ") || line.starts_with("} from "))
            .filter_map(|line| {
                line.split_once(" from '")?
                    .1
                    .split_once('\'')
                    .map(|(s, _)| s)
            })
            .collect()
    }

    /// Resolves a relative specifier against the importing module's path, as the browser does.
    fn resolve(importer: &str, specifier: &str) -> String {
        let mut parts: Vec<&str> = importer.split('/').collect();
        parts.pop();
        for segment in specifier.split('/') {
            match segment {
                "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        parts.join("/")
    }

    #[test]
    fn every_import_is_a_served_module_and_every_module_is_imported() {
        let served: Vec<&str> = MODULES.iter().map(|&(path, _)| path).collect();
        let mut reached = vec!["/ui/app.js".to_owned()];
        for &(path, source) in MODULES {
            let imports = imports_of(source);
            for specifier in imports {
                assert!(
                    specifier.starts_with("./") || specifier.starts_with("../"),
                    "{path} imports {specifier}: only relative, same-origin modules"
                );
                let target = resolve(path, specifier);
                assert!(
                    served.contains(&target.as_str()),
                    "{path} imports {specifier}, which is not served"
                );
                reached.push(target);
            }
        }
        for path in &served {
            assert!(
                reached.iter().any(|r| r == path),
                "{path} is served but nothing imports it"
            );
        }
    }

    #[test]
    fn every_script_under_ui_is_embedded() {
        fn scripts(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().unwrap();
                if entry.file_type().unwrap().is_dir() {
                    scripts(&entry.path(), &format!("{prefix}/{name}"), out);
                } else if name.ends_with(".js") {
                    out.push(format!("{prefix}/{name}"));
                }
            }
        }
        let mut on_disk = Vec::new();
        scripts(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui"),
            "/ui",
            &mut on_disk,
        );
        on_disk.sort();
        let mut served: Vec<String> = MODULES.iter().map(|&(p, _)| p.to_owned()).collect();
        served.sort();
        assert_eq!(
            on_disk, served,
            "MODULES must list every .js file under functions/api/ui"
        );
    }

    #[tokio::test]
    async fn unknown_ui_paths_are_not_found() {
        let res = get_path("/ui/missing.js").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
}
