//! Inputs shared by the criterion benches: the batch sizes and the sample chunk (the record the
//! native stdout samples in `tests/fixtures/stdout-native` were captured with, so every bench and the
//! C host's bench mode measure the same bytes).

use flb_plugin_sdk::events::{EncodeError, EventTime, EventWriter, MallocBuf, RecordForm};
use rmp::encode as enc;

/// Records per collect / per chunk.
pub const BATCHES: [usize; 3] = [1, 100, 10_000];

fn body<W: std::io::Write>(buf: &mut W) -> Result<(), EncodeError> {
    enc::write_map_len(buf, 11)?;
    for (k, v) in [("msg", "say \"hi\"\\path"), ("tab", "a\tb"), ("nl", "line1\nline2"), ("u", "café ü")] {
        enc::write_str(buf, k)?;
        enc::write_str(buf, v)?;
    }
    enc::write_str(buf, "i")?;
    enc::write_sint(buf, 42)?;
    enc::write_str(buf, "neg")?;
    enc::write_sint(buf, -7)?;
    enc::write_str(buf, "f")?;
    enc::write_f64(buf, 0.25)?;
    enc::write_str(buf, "t")?;
    enc::write_bool(buf, true)?;
    enc::write_str(buf, "n")?;
    enc::write_nil(buf)?;
    enc::write_str(buf, "list")?;
    enc::write_array_len(buf, 3)?;
    enc::write_sint(buf, 1)?;
    enc::write_str(buf, "two")?;
    enc::write_map_len(buf, 1)?;
    enc::write_str(buf, "three")?;
    enc::write_sint(buf, 3)?;
    enc::write_str(buf, "obj")?;
    enc::write_map_len(buf, 1)?;
    enc::write_str(buf, "k")?;
    enc::write_str(buf, "v")?;
    Ok(())
}

/// `records` copies of the sample record with metadata `{"source":"test"}`, in `form`.
pub fn sample_chunk(records: usize, form: RecordForm) -> Vec<u8> {
    let mut meta = MallocBuf::new();
    let mut w = EventWriter::new(form);
    let t = EventTime::new(1_700_000_000, 123_456_789);
    (|| -> Result<(), EncodeError> {
        enc::write_map_len(&mut meta, 1)?;
        enc::write_str(&mut meta, "source")?;
        enc::write_str(&mut meta, "test")?;
        let span = w.append_with(t, meta.as_slice(), |b| body(b))?;
        w.repeat(&span, records.saturating_sub(1), t, 1_000)
    })()
    .expect("the sample record encodes");
    w.as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_chunk_holds_the_records_asked_for() {
        for n in BATCHES {
            for form in [RecordForm::Modern, RecordForm::Legacy] {
                let c = sample_chunk(n, form);
                assert_eq!(flb_plugin_sdk::events::validate_chunk(&c).unwrap(), n);
            }
        }
    }
}
