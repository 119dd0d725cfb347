//! Which bodies are keywords, what each does, and Twilio's replies.

use super::*;
use crate::backend_tests;

const OPT_OUT_REPLY: &str = "You have successfully been unsubscribed. You will not receive any \
                             more messages from this number. Reply START to resubscribe.";
const OPT_IN_REPLY: &str = "You have successfully been re-subscribed to messages from this \
                            number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data \
                            Rates May Apply.";
const HELP_REPLY: &str = "Reply STOP to unsubscribe. Msg&Data Rates May Apply.";

backend_tests! {
    async fn every_opt_out_word_in_any_case_and_spacing_opts_the_sender_out(backend) {
        let app = spawn_app(backend).await;
        let words = ["STOP", "stopall", " Unsubscribe", "cancel\n", "\tEND ", "Quit"];
        for (i, word) in words.into_iter().enumerate() {
            let sender = format!("+1415555{:04}", 300 + i);
            let received = text(&app, &sender, ADA_PHONE, word).await;
            assert_eq!(received["keyword"], "OptOut", "{word:?}");
            assert_eq!(received["message"]["body"], word, "the body is kept as texted");
            let listed = opt_outs(&app, &format!("?from={}", sender.replace('+', "%2B"))).await;
            assert_eq!(listed.len(), 1, "{word:?}: {listed:?}");
            assert_eq!(listed[0]["fromPhone"], sender);
            assert_eq!(listed[0]["toPhone"], ADA_PHONE);
            assert_eq!(listed[0]["phoneNumberId"], ADA_NUMBER);
            assert_eq!(listed[0]["messageId"], received["message"]["id"]);
        }
        assert_eq!(opt_outs(&app, "").await.len(), words.len());
    }

    async fn a_keyword_inside_a_sentence_or_with_punctuation_is_an_ordinary_message(backend) {
        let app = spawn_app(backend).await;
        for body in ["stop please", "Please STOP", "STOP!", "S T O P", "help me", "yes, thanks"] {
            let received = text(&app, STRANGER, ADA_PHONE, body).await;
            assert_eq!(received["keyword"], Value::Null, "{body:?}");
            assert_eq!(received["reply"], Value::Null, "{body:?}");
        }
        assert!(opt_outs(&app, "").await.is_empty());
        // No replies were recorded: only the customer's six messages.
        assert_eq!(app.items("/_emulator/messages").await.len(), 6);
        assert!(app.items("/_emulator/messages?direction=Outbound").await.is_empty());
    }

    async fn each_keyword_gets_twilios_reply_recorded_as_an_outbound_message(backend) {
        let app = spawn_app(backend).await;
        for (word, keyword, reply) in [
            ("STOP", "OptOut", OPT_OUT_REPLY),
            ("START", "OptIn", OPT_IN_REPLY),
            ("HELP", "Help", HELP_REPLY),
            ("info", "Help", HELP_REPLY),
        ] {
            let received = text(&app, JANE_PHONE, SUPPORT_PHONE, word).await;
            assert_eq!(received["keyword"], keyword, "{word}");
            let answer = &received["reply"];
            assert_eq!(answer["body"], reply, "{word}");
            assert_eq!(answer["direction"], "Outbound");
            assert_eq!(answer["fromPhone"], SUPPORT_PHONE, "from the number texted");
            assert_eq!(answer["toPhone"], JANE_PHONE, "back to the customer");
            assert_eq!(answer["phoneNumberId"], SUPPORT_NUMBER);
            assert_eq!(answer["owner"], SUPPORT_GROUP);
            assert_eq!(answer["status"], "Queued", "it goes the provider's way (manual here)");
            assert!(answer["smsId"].as_str().is_some_and(|sid| sid.starts_with("SM")));
            let stored = app.item(&format!("/_emulator/messages/{}", answer["id"].as_str().unwrap())).await;
            assert_eq!(&stored, answer, "{word}: the reply is stored as answered");
        }
    }

    async fn start_yes_and_unstop_opt_the_sender_back_in_to_that_number_only(backend) {
        let app = spawn_app(backend).await;
        for word in ["START", "yes", " UnStop "] {
            text(&app, JANE_PHONE, ADA_PHONE, "STOP").await;
            text(&app, JANE_PHONE, MAIN_PHONE, "STOP").await;
            assert_eq!(opt_outs(&app, "").await.len(), 2);
            let received = text(&app, JANE_PHONE, ADA_PHONE, word).await;
            assert_eq!(received["keyword"], "OptIn", "{word:?}");
            let left = opt_outs(&app, "").await;
            assert_eq!(left.len(), 1, "{word:?}: {left:?}");
            assert_eq!(left[0]["toPhone"], MAIN_PHONE, "the other number's opt-out stays");
            let (status, output) = send_from(&app, ADA_PHONE, JANE_PHONE).await;
            assert_eq!(status, StatusCode::OK, "{word:?}: opted back in: {output}");
            text(&app, JANE_PHONE, MAIN_PHONE, "start").await;
        }
    }

    async fn opting_out_again_keeps_the_first_time_and_opting_in_twice_is_harmless(backend) {
        let app = spawn_app(backend).await;
        let first = text(&app, JANE_PHONE, ADA_PHONE, "STOP").await;
        let since = opt_outs(&app, "").await[0]["since"].clone();
        let again = text(&app, JANE_PHONE, ADA_PHONE, "stop").await;
        assert_eq!(again["keyword"], "OptOut");
        assert!(again["reply"]["body"].is_string(), "Twilio answers every STOP");
        let listed = opt_outs(&app, "").await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["since"], since);
        assert_eq!(listed[0]["messageId"], first["message"]["id"]);
        text(&app, JANE_PHONE, ADA_PHONE, "START").await;
        text(&app, JANE_PHONE, ADA_PHONE, "START").await;
        assert!(opt_outs(&app, "").await.is_empty());
    }

    async fn help_changes_no_opt_out(backend) {
        let app = spawn_app(backend).await;
        text(&app, JANE_PHONE, ADA_PHONE, "STOP").await;
        text(&app, JANE_PHONE, ADA_PHONE, "HELP").await;
        assert_eq!(opt_outs(&app, "").await.len(), 1, "still opted out");
        text(&app, STRANGER, ADA_PHONE, "INFO").await;
        assert_eq!(opt_outs(&app, "").await.len(), 1, "and nobody else is");
    }
}
