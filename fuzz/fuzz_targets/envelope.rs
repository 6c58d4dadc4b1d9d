//! The envelope's decoders: the mounted-queries header the server reads and
//! the envelope the browser reads. Any input: no panic, bounds kept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::wire::{decode_queries, Envelope, MAX_QUERIES};

fuzz_target!(|data: &[u8]| {
    if let Ok(queries) = decode_queries(data) {
        assert!(queries.len() <= MAX_QUERIES);
        // What decodes encodes back to the same list.
        let again = serde_json::to_vec(&queries).expect("encode");
        assert_eq!(decode_queries(&again).expect("round trip"), queries);
    }
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(data) {
        let again = serde_json::to_vec(&envelope).expect("encode");
        let back: Envelope = serde_json::from_slice(&again).expect("round trip");
        assert_eq!(back, envelope);
    }
});
