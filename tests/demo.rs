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
