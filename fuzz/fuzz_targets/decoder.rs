#![no_main]
// The property is fuzz_checks::decoder::decoder (tools/fuzz-checks), which the workspace's tests also
// replay on fuzz/corpus/decoder/ and fuzz/regressions/decoder/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::decoder::decoder(data));
