#![no_main]
// The property is fuzz_checks::gdummy_json::gdummy_json (tools/fuzz-checks), which the workspace's tests also
// replay on fuzz/corpus/gdummy_json/ and fuzz/regressions/gdummy_json/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::gdummy_json::gdummy_json(data));
