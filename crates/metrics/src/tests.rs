use super::*;

#[test]
fn renders_the_text_format() {
    let metrics = Metrics::default();
    let delivered = metrics.counter_vec(
        "herald_test_delivered_total",
        "Actions delivered.",
        &["type"],
    );
    delivered.with_label_values(&["slack"]).inc_by(3);
    metrics
        .gauge_vec("herald_test_in_flight", "In flight.", &["type"])
        .with_label_values(&["teams"])
        .set(2);
    let latency = metrics.histogram_vec(
        "herald_test_latency_seconds",
        "Latency.",
        &["type"],
        &[0.1, 1.0],
    );
    latency.with_label_values(&["slack"]).observe(0.05);
    latency.with_label_values(&["slack"]).observe(0.5);

    let text = metrics.render();
    for line in [
        "# HELP herald_test_delivered_total Actions delivered.",
        "# TYPE herald_test_delivered_total counter",
        "herald_test_delivered_total{type=\"slack\"} 3",
        "# TYPE herald_test_in_flight gauge",
        "herald_test_in_flight{type=\"teams\"} 2",
        "# TYPE herald_test_latency_seconds histogram",
        "herald_test_latency_seconds_bucket{type=\"slack\",le=\"0.1\"} 1",
        "herald_test_latency_seconds_bucket{type=\"slack\",le=\"1\"} 2",
        "herald_test_latency_seconds_bucket{type=\"slack\",le=\"+Inf\"} 2",
        "herald_test_latency_seconds_sum{type=\"slack\"} 0.55",
        "herald_test_latency_seconds_count{type=\"slack\"} 2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line `{line}` in:\n{text}"
        );
    }
}

#[test]
fn a_family_asked_for_twice_is_shared() {
    let metrics = Metrics::default();
    let a = metrics.counter_vec("herald_test_calls_total", "Calls.", &["call"]);
    let b = metrics
        .clone()
        .counter_vec("herald_test_calls_total", "Calls.", &["call"]);
    a.with_label_values(&["get"]).inc();
    b.with_label_values(&["get"]).inc();
    assert!(
        metrics
            .render()
            .contains("herald_test_calls_total{call=\"get\"} 2")
    );
}

#[test]
#[should_panic(expected = "different kinds")]
fn one_name_for_two_kinds_is_a_bug() {
    let metrics = Metrics::default();
    metrics.counter("herald_test_x", "x");
    metrics.gauge_vec("herald_test_x", "x", &["a"]);
}

#[tokio::test]
async fn the_listener_serves_metrics_health_and_readiness() {
    let metrics = Metrics::default();
    metrics.counter("herald_test_events_total", "Events.").inc();
    let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let readiness = Readiness::default()
        .check("always", || async { Ok(()) })
        .check("registry", {
            let up = up.clone();
            move || {
                let up = up.load(std::sync::atomic::Ordering::SeqCst);
                async move {
                    if up {
                        Ok(())
                    } else {
                        Err("connection refused".to_owned())
                    }
                }
            }
        });
    let listener = bind(Some("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap()
        .expect("an address was given");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, metrics, readiness, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        let request = http.get(format!("{base}{path}"));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, content_type, response.text().await.unwrap())
        }
    };

    let (status, content_type, body) = get("/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("text/plain; version=0.0.4"));
    assert!(body.contains("herald_test_events_total 1"), "{body}");
    assert_eq!(get("/healthz").await.0, 200);
    let (status, _, body) = get("/readyz").await;
    assert_eq!((status, body.as_str()), (200, "always: ok\nregistry: ok\n"));

    up.store(false, std::sync::atomic::Ordering::SeqCst);
    let (status, _, body) = get("/readyz").await;
    assert_eq!(
        (status, body.as_str()),
        (503, "always: ok\nregistry: connection refused\n")
    );
    assert_eq!(get("/healthz").await.0, 200);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
