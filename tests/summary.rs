//! TensorBoard's event files: stepflow's summaries against TensorFlow's own (the goldens of
//! `tests/tensorboard/make_summary_golden.py`), and the reader on arbitrary and damaged bytes,
//! which it rejects with an error naming the file, never a panic.

use proptest::prelude::*;
use prost::Message;
use serde_json::Value;
use stepflow::summary::proto::{Event, summary::value::Value as Kind};
use stepflow::summary::{Records, decode_events, histogram, masked_crc32c, scalar, write_record};

fn golden() -> Value {
    serde_json::from_str(include_str!("tensorboard/summary_golden.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn histograms_are_tensorflows_to_the_bit() {
    let g = golden();
    let cases = g["histograms"].as_object().unwrap();
    assert_eq!(cases.len(), 4);
    for (name, case) in cases {
        let s = histogram(name, floats(&case["values"])).unwrap();
        assert_eq!(s.value[0].tag, case["tag"].as_str().unwrap());
        let Some(Kind::Histo(h)) = &s.value[0].value else { panic!("{name}: not a histogram") };
        let scalars = [("min", h.min), ("max", h.max), ("num", h.num), ("sum", h.sum), ("sum_squares", h.sum_squares)];
        for (field, ours) in scalars {
            assert_eq!(ours.to_bits(), case[field].as_f64().unwrap().to_bits(), "{name}.{field}");
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&h.bucket_limit), bits(&floats(&case["bucket_limit"])), "{name}.bucket_limit");
        assert_eq!(h.bucket, floats(&case["bucket"]), "{name}.bucket");
    }
}

#[test]
fn scalars_serialize_to_tensorflows_bytes() {
    let g = golden();
    for (name, case) in g["scalars"].as_object().unwrap() {
        let ours: String =
            scalar(name, case["value"].as_f64().unwrap()).encode_to_vec().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(ours, case["summary_hex"].as_str().unwrap(), "{name}");
    }
}

#[test]
fn masked_crcs_are_tfrecords() {
    // The record TF's writer makes of an empty payload: length 0, its CRC, and the CRC of nothing.
    let mut file = Vec::new();
    write_record(&mut file, b"").unwrap();
    let length_crc = masked_crc32c(&[0; 8]).to_le_bytes();
    let expected: Vec<u8> = [0u8; 8].iter().chain(&length_crc).chain(&0xa282_ead8u32.to_le_bytes()).copied().collect();
    assert_eq!(file, expected);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any bytes: the reader stops with an error or gives events, and never panics.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Err(e) = decode_events(&bytes, "fuzz.tfevents") {
            prop_assert!(e.to_string().starts_with("fuzz.tfevents: record"), "{e}");
        }
    }

    /// Records with any payloads read back as written; one damaged byte is always caught.
    #[test]
    fn records_round_trip_and_damage_is_caught(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..5),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut file = Vec::new();
        for p in &payloads {
            write_record(&mut file, p).unwrap();
        }
        let back: Vec<&[u8]> = Records::new(&file, "f").collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(back, payloads.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let i = at.index(file.len());
        file[i] ^= flip;
        prop_assert!(Records::new(&file, "f").any(|r| r.is_err()), "a change of byte {} went unnoticed", i);
    }

    /// A valid file of events cut anywhere: the events before the cut, then an error.
    #[test]
    fn a_truncated_file_keeps_the_whole_records(steps in proptest::collection::vec(any::<i64>(), 1..6), cut in any::<prop::sample::Index>()) {
        let mut file = Vec::new();
        let mut ends = Vec::new();
        for &step in &steps {
            write_record(&mut file, &Event { step, ..Event::default() }.encode_to_vec()).unwrap();
            ends.push(file.len());
        }
        let at = cut.index(file.len());
        let whole = ends.iter().filter(|&&e| e <= at).count();
        let read: Vec<_> = Records::new(&file[..at], "f").collect();
        prop_assert_eq!(read.iter().filter(|r| r.is_ok()).count(), whole);
        prop_assert_eq!(read.len() - whole, usize::from(!ends.contains(&at) && at > 0));
    }
}
