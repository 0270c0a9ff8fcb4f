#![no_main]
// The property is fuzz_checks::tail_multiline::tail_multiline (tools/fuzz-checks), which the
// workspace's tests also replay on fuzz/corpus/tail_multiline/ and fuzz/regressions/tail_multiline/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::tail_multiline::tail_multiline(data));
