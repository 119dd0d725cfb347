use reqwest::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

backend_tests! {
    async fn sms_to_a_number_succeeds_with_the_nine_output_keys(backend) {
        let app = spawn_app(backend).await;
        let (status, body) = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "Hello"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["createdDate", "direction", "id", "owner", "phoneNumberId", "relatedRecordId", "smsId", "status", "taskId"]);
        assert_eq!(body["owner"], ADA);
        assert_eq!(body["phoneNumberId"], ADA_NUMBER);
        assert_eq!(body["status"], "Queued");
        assert_eq!(body["direction"], "Outbound");
        assert!(body["taskId"].is_null());
    }

    async fn sms_without_body_is_error_101(backend) {
        let app = spawn_app(backend).await;
        let response = app.send_sms(&json!({"toPhone": "+14155550123"})).await;
        let message = assert_exception(&response, StatusCode::BAD_REQUEST, 101);
        assert!(message.contains("Body text not provided"), "{message}");
    }
}
