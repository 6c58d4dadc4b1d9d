//! The decoders of a form posted without JavaScript: the fields and the
//! action they name, and the previous state (`prev`) of an action-state
//! form, decoded as server_fn decodes arguments. Any input: no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::wire::FormPost;
use tandem::Prev;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Args {
    prev: Prev<Option<String>>,
    title: String,
    content: String,
}

fuzz_target!(|data: &[u8]| {
    let post = FormPost::decode(data);
    if let Some(action) = &post.action {
        assert!(post.fields.iter().any(|(_, v)| v == action));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = serde_qs::Config::new(5, false).deserialize_str::<Args>(text);
    }
});
