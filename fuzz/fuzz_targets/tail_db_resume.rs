#![no_main]
// The property is fuzz_checks::tail_db_resume::tail_db_resume (tools/fuzz-checks), which the workspace's tests also
// replay on fuzz/corpus/tail_db_resume/ and fuzz/regressions/tail_db_resume/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::tail_db_resume::tail_db_resume(data));
