//! The web page's files as the server sends them: built in, each with its type, and a policy
//! that keeps the browser to this server. (The page itself is driven in a real browser by
//! tests/browser/page_test.py, which .ci/browser.sh runs.)

use reqwest::StatusCode;

use crate::backend_tests;
use crate::helpers::*;

backend_tests! {
    async fn the_page_and_its_files_are_served_with_their_types_and_policy(backend) {
        let app = spawn_app(backend).await;
        for (path, content_type, holds) in [
            ("/", "text/html", "/ui/app.js"),
            ("/ui/app.js", "text/javascript", "/_emulator/events"),
            ("/ui/app.css", "text/css", "@media"),
            ("/orgs/default/", "text/html", "/ui/app.css"),
        ] {
            let response = app.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let headers = response.headers().clone();
            assert!(headers["content-type"].to_str().unwrap().starts_with(content_type), "{path}");
            let policy = headers["content-security-policy"].to_str().unwrap();
            assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"), "{path}: {policy}");
            assert_eq!(headers["x-content-type-options"], "nosniff");
            let body = response.text().await.unwrap();
            assert!(body.contains(holds), "{path}");
            // Nothing from anywhere else: no absolute URL to load.
            for scheme in ["src=\"http", "href=\"http", "url(http", "import \"http", "from \"http"] {
                assert!(!body.contains(scheme), "{path} loads {scheme}...");
            }
        }
    }
}
