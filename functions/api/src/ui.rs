//! The web UI: static files embedded in the binary and served by the same router as the API, so the UI works in
//! the local runner and behind API Gateway alike, with nothing fetched from the internet and no build step. The
//! script is a set of ES modules (`ui/app.js` imports the rest); the browser loads each one from [`MODULES`], which
//! must therefore list every `.js` file under `ui/` (a test checks it against the directory and the imports).
//!
//! The assets are public (they hold no data); everything they show comes from the API under bearer auth.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../ui/index.html");
const APP_CSS: &str = include_str!("../ui/app.css");
/// Module scripts are only run when served with a JavaScript MIME type (and `nosniff` forbids guessing).
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Every ES module of the UI: the path the page or another module imports it from, and its text.
pub const MODULES: &[(&str, &str)] = &[
    ("/ui/app.js", include_str!("../ui/app.js")),
    ("/ui/api.js", include_str!("../ui/api.js")),
    ("/ui/dom.js", include_str!("../ui/dom.js")),
    ("/ui/format.js", include_str!("../ui/format.js")),
    ("/ui/router.js", include_str!("../ui/router.js")),
    ("/ui/server.js", include_str!("../ui/server.js")),
    (
        "/ui/views/coverage.js",
        include_str!("../ui/views/coverage.js"),
    ),
    ("/ui/views/detail.js", include_str!("../ui/views/detail.js")),
    ("/ui/views/form.js", include_str!("../ui/views/form.js")),
    ("/ui/views/list.js", include_str!("../ui/views/list.js")),
    (
        "/ui/views/notifications.js",
        include_str!("../ui/views/notifications.js"),
    ),
    ("/ui/views/parts.js", include_str!("../ui/views/parts.js")),
    ("/ui/views/token.js", include_str!("../ui/views/token.js")),
];

/// Only our own origin may provide scripts, styles, images and API calls; no inline script or style, no plugins, no
/// framing. The UI renders API strings with `textContent`, and this policy is the second line of defence.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// `GET /` (the page), `GET /ui/app.css` and each of [`MODULES`].
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let router = Router::new()
        .route(
            "/",
            get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/ui/app.css",
            get(|| async { asset(APP_CSS, "text/css; charset=utf-8") }),
        );
    MODULES.iter().fold(router, |router, &(path, body)| {
        router.route(path, get(move || async move { asset(body, JAVASCRIPT) }))
    })
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The assets change with every release and are small: revalidate rather than serve a stale UI against
            // a newer API.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
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
        routes::<()>()
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
