//! The README's main command, `kdesk demo`, runs end to end and passes its own checks.

mod common;

#[test]
fn demo_runs_end_to_end() {
    let o = common::run(&["demo"]);
    let (code, out, err) = common::outcome(&o);
    assert_eq!(code, 0, "demo failed\nstdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("every check passed"), "{out}");
    assert!(!out.contains('✘'), "{out}");
    for step in [
        "container_numbers[0]",
        "registered for TH",
        "not at NL",
        "KR did not relay it",
        "retracted after",
        "bad-signature",
        "wrong-origin-key",
        "not-addressed-to-us",
        "VERIFIED",
        "audit FAILED",
        "exited 0 after SIGTERM",
    ] {
        assert!(out.contains(step), "demo output lacks {step:?}");
    }
}

#[test]
fn demo_json_prints_only_the_result_on_standard_output() {
    let o = common::run(&["demo", "--json"]);
    let (code, out, err) = common::outcome(&o);
    assert_eq!(code, 0, "demo failed\nstdout:\n{out}\nstderr:\n{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["checks_passed"].as_u64().unwrap_or(0) >= 30, "{v}");
    assert_eq!(v["failed_checks"], serde_json::json!([]), "{v}");
    assert!(
        err.contains("every check passed"),
        "the narration goes to stderr"
    );
}
