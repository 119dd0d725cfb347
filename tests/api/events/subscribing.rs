//! Filters, replay, keep-alives, subscribers coming and going, and the end of streams.

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn unknown_event_type_is_invalid_filter(backend) {
        let app = spawn_app(backend).await;
        for types in ["nope", "sms.created,nope", "sms"] {
            let name = types.rsplit(',').next().unwrap();
            let path = format!("{EVENTS}?types={types}");
            let (status, body) = app.get(&path).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{path}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(&format!("`{name}`")), "{path}: {message}");
        }
    }

    async fn unknown_parameter_or_bad_after_is_400(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("type=sms.created", "`type`"),
            ("since=2026-01-01T00:00:00Z", "`since`"),
            ("after=abc", "`abc`"),
            ("after=1.5", "`1.5`"),
            ("after=99999999999999999999", "`99999999999999999999`"),
            ("types=sms.created&after=x1", "`x1`"),
        ];
        for (query, fragment) in cases {
            let (status, body) = app.get(&format!("{EVENTS}?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{query}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(fragment), "{query}: {message}");
        }
    }

    async fn reconnecting_replays_missed_events_then_continues_live(backend) {
        let app = spawn_app(backend).await;
        let mut first = EventStream::open(&app, EVENTS).await;
        let sms = sms_ok(&app, JANE_PHONE, "one").await;
        let status = set_ada_status(&app, ON_BREAK_STATUS).await;
        let call = call_ok(&app).await;
        let mut seen = expect_ids(
            &mut first,
            &[
                (SMS, sms["id"].clone()),
                (STATUS, status["logId"].clone()),
                (CALL, call["id"].clone()),
            ],
        )
        .await;
        drop(first);
        let last_seen = seen[0].id.clone().unwrap();
        let by_header = app.client.get(app.url(EVENTS)).header("Last-Event-ID", &last_seen);
        let by_query = app.client.get(app.url(&format!("{EVENTS}?after={last_seen}")));
        for (way, request) in [("Last-Event-ID", by_header), ("after", by_query)] {
            let mut stream = EventStream::replaying(request).await;
            // Everything after the first event, oldest first, exactly as it was sent live
            // (the second time round, with the first reconnect's live event).
            for missed in &seen[1..] {
                assert_eq!(stream.next_event().await, *missed, "{way}");
            }
            let live = sms_ok(&app, JANE_PHONE, way).await;
            let event = stream.expect(SMS).await;
            assert_eq!(event.payload()["id"], live["id"], "{way}: {event:?}");
            assert!(event.seq() > seen.last().unwrap().seq(), "{way}: {event:?}");
            seen.push(event);
        }
    }

    async fn replay_never_repeats_the_given_id_or_older_ones(backend) {
        for way in ["Last-Event-ID", "after"] {
            let app = spawn_app(backend).await;
            // Right after the start: the demo org's event (id 1) was the last one.
            let request = match way {
                "after" => app.client.get(app.url(&format!("{EVENTS}?after=1"))),
                _ => app.client.get(app.url(EVENTS)).header("Last-Event-ID", "1"),
            };
            let mut stream = EventStream::replaying(request).await;
            let output = sms_ok(&app, JANE_PHONE, way).await;
            let event = stream.next_event().await;
            assert_eq!(event.kind(), SMS, "{way}: the client already has event 1: {event:?}");
            assert_eq!(event.payload()["id"], output["id"], "{way}: {event:?}");
            assert!(event.seq() > 1, "{way}: {event:?}");
            // Event 1 was indeed the demo org stored at start.
            let first = EventStream::after(&app, 0).await.next_event().await;
            assert_eq!((first.seq(), first.kind()), (1, ORG), "{first:?}");
        }
    }

    async fn replay_from_zero_gives_every_stored_event(backend) {
        let app = spawn_app(backend).await;
        let mut live = EventStream::open(&app, EVENTS).await;
        let sms = sms_ok(&app, JANE_PHONE, "one").await;
        let status = set_ada_status(&app, ON_BREAK_STATUS).await;
        let raised = [(SMS, sms["id"].clone()), (STATUS, status["logId"].clone())];
        let seen = expect_ids(&mut live, &raised).await;
        let mut stream = EventStream::after(&app, 0).await;
        // The demo org stored at start comes first.
        let org = stream.expect(ORG).await;
        assert_eq!(org.payload(), json!({"version": 1}));
        assert!(org.seq() < seen[0].seq(), "{org:?}");
        assert_eq!(stream.next_event().await, seen[0]);
        assert_eq!(stream.next_event().await, seen[1]);
        let call = call_ok(&app).await;
        let event = stream.expect(CALL).await;
        assert_eq!(event.payload()["id"], call["id"], "{event:?}");
    }

    async fn replay_racing_live_events_has_no_gaps_or_duplicates(backend) {
        let app = std::sync::Arc::new(spawn_app(backend).await);
        let mut live = EventStream::open(&app, EVENTS).await;
        let start = sms_ok(&app, JANE_PHONE, "start").await;
        let start_event = live.expect(SMS).await;
        assert_eq!(start_event.payload()["id"], start["id"]);
        let start_seq = start_event.seq();
        drop(live);
        let sender = {
            let app = app.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..20 {
                    ids.push(sms_ok(&app, JANE_PHONE, &format!("race {n}")).await["id"].clone());
                }
                ids
            })
        };
        let mut stream = EventStream::after(&app, start_seq).await;
        let ids = sender.await.expect("the sender finishes");
        let mut last = start_seq;
        for id in &ids {
            let event = stream.expect(SMS).await;
            assert_eq!(event.payload()["id"], *id, "{event:?}");
            assert!(event.seq() > last, "{event:?} after {last}");
            last = event.seq();
        }
        let marker = call_ok(&app).await;
        assert_eq!(stream.expect(CALL).await.payload()["id"], marker["id"]);
    }

    // A replay is read from the database a page (256 events) at a time: one far longer
    // arrives whole and in order, with the live events that came meanwhile after it.
    async fn a_replay_of_several_pages_is_complete_and_in_order_while_live_events_arrive(backend) {
        const BULK: usize = 200;
        const BULKS: usize = 3;
        const LIVE: usize = 20;
        let app = std::sync::Arc::new(spawn_app(backend).await);
        let mut stored_ids = Vec::new();
        for round in 0..BULKS {
            let inputs: Vec<Value> = (0..BULK)
                .map(|n| json!({"toPhone": JANE_PHONE, "bodyText": format!("bulk {round}.{n}")}))
                .collect();
            let (status, results) = app.invoke("SubscriberSMSInvocable", json!(inputs)).await;
            assert_eq!(status, StatusCode::OK, "{results}");
            let results = results.as_array().expect("results");
            stored_ids.extend(results.iter().map(|r| r["outputValues"]["id"].clone()));
        }
        let sender = {
            let app = app.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..LIVE {
                    ids.push(sms_ok(&app, JANE_PHONE, &format!("live {n}")).await["id"].clone());
                }
                ids
            })
        };
        let mut stream = EventStream::after(&app, 0).await;
        // The demo org stored at start comes first.
        let org = stream.expect(ORG).await;
        let mut seqs = vec![org.seq()];
        let mut sent_ids = Vec::new();
        for _ in 0..BULK * BULKS + LIVE {
            let event = stream.expect(SMS).await;
            assert!(event.seq() > *seqs.last().unwrap(), "{event:?} after {}", seqs.last().unwrap());
            seqs.push(event.seq());
            sent_ids.push(event.payload()["id"].clone());
        }
        stored_ids.extend(sender.await.expect("the sender finishes"));
        let mut stored_ids_in_any_order = stored_ids.clone();
        stored_ids_in_any_order.sort_by_key(ToString::to_string);
        let mut sent_ids_sorted = sent_ids.clone();
        sent_ids_sorted.sort_by_key(ToString::to_string);
        assert_eq!(sent_ids_sorted, stored_ids_in_any_order, "every message once");
        assert_eq!(sent_ids[BULK * BULKS..], stored_ids[BULK * BULKS..], "the live ones last, in order");
        let marker = call_ok(&app).await;
        assert_eq!(stream.expect(CALL).await.payload()["id"], marker["id"], "nothing else came");
    }

    // Writes committed side by side (group commits, status changes) still reach a live
    // subscriber in id order, so a client that reconnects after the last id it got misses
    // nothing; a replay gives the very same events.
    async fn concurrent_writes_arrive_in_id_order_and_replay_alike(backend) {
        const WRITES: usize = 40;
        let app = std::sync::Arc::new(spawn_app(backend).await);
        let mut live = EventStream::open(&app, EVENTS).await;
        let writers: Vec<_> = (0..WRITES)
            .map(|n| {
                let app = app.clone();
                tokio::spawn(async move {
                    // Whether the write raised an event: setting the status Ada has
                    // already raises none.
                    if n % 4 == 0 {
                        let status = [ON_BREAK_STATUS, AVAILABLE_STATUS][n / 4 % 2];
                        set_ada_status(&app, status).await["changed"] == true
                    } else {
                        sms_ok(&app, JANE_PHONE, &format!("side by side {n}")).await;
                        true
                    }
                })
            })
            .collect();
        let mut raised = 0;
        for writer in writers {
            raised += usize::from(writer.await.expect("every write answers"));
        }
        let mut seen: Vec<SseEvent> = Vec::with_capacity(raised);
        for _ in 0..raised {
            let event = live.next_event().await;
            if let Some(previous) = seen.last() {
                assert!(event.seq() > previous.seq(), "{event:?} after {previous:?}");
            }
            seen.push(event);
        }
        let mut replay = EventStream::after(&app, seen[0].seq() - 1).await;
        for event in &seen {
            assert_eq!(replay.next_event().await, *event);
        }
    }

    async fn idle_stream_gets_keep_alive_comments(backend) {
        let app = spawn_app_with(backend, |config| config.event_keep_alive_secs = 1).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let started = Instant::now();
        for n in 0..2 {
            match stream.next_frame().await {
                Some(Frame::Comment) => {}
                other => panic!("keep-alive {n}: expected a comment, got {other:?}"),
            }
        }
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
        // The stream still carries events.
        let output = sms_ok(&app, JANE_PHONE, "still here").await;
        assert_eq!(stream.expect(SMS).await.payload()["id"], output["id"]);
    }

    async fn every_subscriber_gets_every_event(backend) {
        let app = spawn_app(backend).await;
        let mut streams = Vec::new();
        for _ in 0..3 {
            streams.push(EventStream::open(&app, EVENTS).await);
        }
        let sms = sms_ok(&app, JANE_PHONE, "to all").await;
        let status = set_ada_status(&app, ON_BREAK_STATUS).await;
        let expected = [(SMS, sms["id"].clone()), (STATUS, status["logId"].clone())];
        let first = expect_ids(&mut streams[0], &expected).await;
        for stream in &mut streams[1..] {
            assert_eq!(expect_ids(stream, &expected).await, first);
        }
    }

    async fn dropped_subscriber_costs_nothing(backend) {
        let app = spawn_app(backend).await;
        let mut leaving = EventStream::open(&app, EVENTS).await;
        let mut staying = EventStream::open(&app, EVENTS).await;
        let first = sms_ok(&app, JANE_PHONE, "before").await;
        assert_eq!(leaving.expect(SMS).await.payload()["id"], first["id"]);
        drop(leaving);
        let mut expected = vec![(SMS, first["id"].clone())];
        for n in 0..3 {
            let body = format!("after {n}");
            let send = sms_ok(&app, JANE_PHONE, &body);
            let output = tokio::time::timeout(READ_TIMEOUT, send)
                .await
                .expect("the action answers in time");
            expected.push((SMS, output["id"].clone()));
        }
        let status = set_ada_status(&app, ON_BREAK_STATUS).await;
        expected.push((STATUS, status["logId"].clone()));
        expect_ids(&mut staying, &expected).await;
        let mut newcomer = EventStream::open(&app, EVENTS).await;
        let last = call_ok(&app).await;
        assert_eq!(newcomer.expect(CALL).await.payload()["id"], last["id"]);
        assert_eq!(staying.expect(CALL).await.payload()["id"], last["id"]);
    }

    async fn stream_ends_when_the_server_stops(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let output = sms_ok(&app, JANE_PHONE, "last words").await;
        assert_eq!(stream.expect(SMS).await.payload()["id"], output["id"]);
        tokio::time::timeout(READ_TIMEOUT, app.stop())
            .await
            .expect("the server stops promptly with a stream open");
        loop {
            match stream.next_frame().await {
                None => break,
                Some(Frame::Comment) => continue,
                Some(Frame::Event(event)) => panic!("no event after the stop: {event:?}"),
            }
        }
    }

    async fn stream_needs_the_admin_token_when_configured(backend) {
        let token = Some(Secret::new("s3cret"));
        let app = spawn_app_with(backend, |config| config.admin_token = token).await;
        let url = app.url(EVENTS);
        let refused = [
            ("no token", app.client.get(&url)),
            ("wrong token", app.client.get(&url).bearer_auth("nope")),
            ("token as API key", app.client.get(&url).header("X-API-Key", "s3cret")),
        ];
        for (case, request) in refused {
            let (status, body) = json_of(request).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
            assert_eq!(body["errorCode"], "INVALID_SESSION_ID", "{case}: {body}");
        }
        let mut stream = EventStream::live(app.client.get(&url).bearer_auth("s3cret")).await;
        let output = sms_ok(&app, JANE_PHONE, "authorised").await;
        assert_eq!(stream.expect(SMS).await.payload()["id"], output["id"]);
    }
}
