#![no_main]
// The property is fuzz_checks::tail_lines::tail_lines (tools/fuzz-checks), which the workspace's tests also
// replay on fuzz/corpus/tail_lines/ and fuzz/regressions/tail_lines/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::tail_lines::tail_lines(data));
