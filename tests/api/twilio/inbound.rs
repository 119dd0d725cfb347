//! Twilio's messaging webhook: a customer's message takes the inbound path, keywords
//! included, and only with Twilio's signature.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

const SMS: &str = "/_provider/twilio/sms";
const CUSTOMER: &str = "+14155550199";
const INBOUND_SID: &str = "SM11111111111111111111111111111111";

/// The webhook's fields for a message from `from` to `to`.
fn webhook<'a>(sid: &'a str, from: &'a str, to: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
    ]
}

backend_tests! {
    async fn a_customer_s_message_is_stored_with_twilio_s_sid(backend) {
        let (app, fake) = spawn_with_twilio(backend).await;
        let (status, twiml) = twilio_posts(&app, SMS, &webhook(INBOUND_SID, JANE_PHONE, ADA_PHONE, "Is my order in?")).await;
        assert_eq!(status, StatusCode::OK, "{twiml}");
        assert!(twiml.contains("<Response/>"), "empty TwiML: {twiml}");
        let message = app.item(&format!("/_emulator/messages/{INBOUND_SID}")).await;
        assert_eq!(message["direction"], "Inbound");
        assert_eq!(message["status"], "Received");
        assert_eq!(message["fromPhone"], JANE_PHONE);
        assert_eq!(message["body"], "Is my order in?");
        assert_eq!(message["relatedRecordId"], JANE_CONTACT);
        assert!(fake.requests().is_empty(), "nothing is sent back");
    }

    async fn an_mms_keeps_its_first_media_url(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let mut fields = webhook(INBOUND_SID, CUSTOMER, MAIN_PHONE, "");
        fields.retain(|(name, _)| *name != "NumMedia");
        fields.extend([("NumMedia", "1"), ("MediaUrl0", "https://api.twilio.com/media/ME1"), ("MediaContentType0", "image/png")]);
        let (status, body) = twilio_posts(&app, SMS, &fields).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let message = app.item(&format!("/_emulator/messages/{INBOUND_SID}")).await;
        assert_eq!(message["mediaURL"], "https://api.twilio.com/media/ME1");
    }

    async fn stop_opts_out_and_a_later_sms_is_refused_without_reaching_twilio(backend) {
        let (app, fake) = spawn_with_twilio(backend).await;
        let (status, body) = twilio_posts(&app, SMS, &webhook(INBOUND_SID, CUSTOMER, ADA_PHONE, "STOP")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let opt_outs = app.items("/_emulator/opt-outs").await;
        assert_eq!(opt_outs.len(), 1, "{opt_outs:?}");
        assert_eq!(opt_outs[0]["fromPhone"], CUSTOMER);
        // Twilio sends its reply itself, and reports nothing about it: recorded as Sent.
        let replies = app.items("/_emulator/messages?direction=Outbound").await;
        assert_eq!(replies.len(), 1, "{replies:?}");
        assert_eq!(replies[0]["status"], "Sent");
        assert_eq!(replies[0]["toPhone"], CUSTOMER);

        let response = app.send_sms(&json!({"toPhone": CUSTOMER, "bodyText": "Sale!"})).await;
        assert_error(&response, StatusCode::BAD_GATEWAY, 100, "21610", "opted out");
        assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    }

    async fn an_unsigned_or_wrongly_signed_message_is_403_and_stores_nothing(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let fields = webhook(INBOUND_SID, CUSTOMER, ADA_PHONE, "STOP");
        let (status, _) = post_form(&app, SMS, &fields, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let wrong = signature(SMS, &webhook(INBOUND_SID, CUSTOMER, ADA_PHONE, "START"));
        let (status, _) = post_form(&app, SMS, &fields, Some(&wrong)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(app.items("/_emulator/messages").await.is_empty());
        assert!(app.items("/_emulator/opt-outs").await.is_empty());
    }

    async fn a_message_to_a_number_the_org_lacks_is_400(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let (status, body) = twilio_posts(&app, SMS, &webhook(INBOUND_SID, CUSTOMER, "+14155550999", "Hi")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("INVALID_FIELD"), "{body}");
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn an_org_s_webhook_is_signed_with_its_prefix(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let org = app.item("/_emulator/org").await;
        let (status, body) = app.request(reqwest::Method::PUT, "/orgs/sandbox/_emulator/org", &[], Some(&org)).await;
        assert!(status.is_success(), "{body}");
        let path = "/orgs/sandbox/_provider/twilio/sms";
        let fields = webhook(INBOUND_SID, CUSTOMER, ADA_PHONE, "Hello");
        // Signed for the root's URL: not this request's.
        let (status, _) = post_form(&app, path, &fields, Some(&signature(SMS, &fields))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = twilio_posts(&app, path, &fields).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(app.items("/orgs/sandbox/_emulator/messages").await.len(), 1);
        assert!(app.items("/_emulator/messages").await.is_empty());
    }
}
