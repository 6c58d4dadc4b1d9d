//! The multipart decoder (`tandem::server::multipart`): any body, cut into
//! chunks of any size, never panics, and what it keeps stays within its
//! limits. The prefix scan the no-JS path uses never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::server::multipart::{field_in_prefix, read_stream, Limits};

const FILE: usize = 64;
const TEXT: usize = 32;
const FIELDS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, body)) = data.split_first() else {
        return;
    };
    let _ = field_in_prefix(body, "B", "__tandem_action");
    let chunk = usize::from(chunk).max(1);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = body
        .chunks(chunk)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let limits = Limits::default().file(FILE).text(TEXT).fields(FIELDS);
    let read = futures::executor::block_on(read_stream(
        futures::stream::iter(chunks),
        "B",
        limits,
    ));
    if let Ok(form) = read {
        assert!(form.texts().len() <= FIELDS);
        for (_, value) in form.texts() {
            assert!(value.len() <= TEXT);
        }
        assert!(form.texts().len() + form.files().len() <= FIELDS);
        for file in form.files() {
            assert!(file.bytes.len() <= FILE);
        }
    }
});
