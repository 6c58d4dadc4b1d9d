//! Sending a form with files: the browser's `FormData` posted as
//! `multipart/form-data` with `XMLHttpRequest`, which reports the upload's
//! progress (fetch does not), asking for Tandem's envelope like every
//! other call.

use crate::wire::Envelope;

/// What came back: the function's status and body, and the envelope's
/// effects and data (already applied to the page).
pub(crate) struct Sent {
    /// The function's own status.
    pub(crate) status: u16,
    /// Its own body.
    pub(crate) body: Vec<u8>,
    /// What else the answer carried.
    pub(crate) envelope: Option<Envelope>,
}

/// Posts `data` to the function at `path`, calling `progress(sent, total)`
/// as the upload goes; then applies the envelope's effects and data to the
/// page, as Tandem's client does.
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(crate) async fn send_form(
    path: &str,
    data: &web_sys::FormData,
    progress: impl Fn(u64, u64) + 'static,
) -> Result<Sent, String> {
    use crate::wire::{ENVELOPE_CONTENT_TYPE, PAGE_HEADER, QUERIES_HEADER, TANDEM_HEADER};
    use futures::channel::oneshot;
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::JsCast;
    use std::cell::RefCell;
    use std::rc::Rc;

    let xhr = web_sys::XmlHttpRequest::new().map_err(|e| format!("{e:?}"))?;
    xhr.open("POST", path).map_err(|e| format!("{e:?}"))?;
    xhr.set_response_type(web_sys::XmlHttpRequestResponseType::Arraybuffer);
    let set = |name: &str, value: &str| xhr.set_request_header(name, value);
    set(TANDEM_HEADER, "1").map_err(|e| format!("{e:?}"))?;
    if let Some(page) = crate::ui::page::current_path() {
        let _ = set(PAGE_HEADER, &page);
    }
    let mounted = crate::ui::page::mounted();
    if !mounted.is_empty() {
        if let Ok(json) = serde_json::to_string(&mounted) {
            let _ = set(QUERIES_HEADER, &json);
        }
    }
    let (done, finished) = oneshot::channel::<Result<(), String>>();
    let done = Rc::new(RefCell::new(Some(done)));
    let settle = {
        let done = done.clone();
        move |result: Result<(), String>| {
            if let Some(done) = done.borrow_mut().take() {
                let _ = done.send(result);
            }
        }
    };
    let on_load = Closure::<dyn FnMut()>::new({
        let settle = settle.clone();
        move || settle(Ok(()))
    });
    let on_error = Closure::<dyn FnMut()>::new(move || settle(Err("the upload failed".into())));
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |event: web_sys::ProgressEvent| {
            progress(event.loaded() as u64, event.total() as u64);
        });
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(on_error.as_ref().unchecked_ref()));
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    xhr.send_with_opt_form_data(Some(data))
        .map_err(|e| format!("{e:?}"))?;
    let result = finished
        .await
        .unwrap_or(Err("the upload was dropped".into()));
    drop((on_load, on_error, on_progress));
    result?;
    let status = xhr.status().map_err(|e| format!("{e:?}"))?;
    let body = xhr
        .response()
        .map(|buffer| js_sys::Uint8Array::new(&buffer).to_vec())
        .unwrap_or_default();
    let is_envelope = xhr
        .get_response_header("content-type")
        .ok()
        .flatten()
        .is_some_and(|ct| ct.starts_with(ENVELOPE_CONTENT_TYPE));
    if !is_envelope {
        return Ok(Sent {
            status,
            body,
            envelope: None,
        });
    }
    let envelope: Envelope =
        serde_json::from_slice(&body).map_err(|e| format!("Tandem envelope: {e}"))?;
    crate::ui::page::apply(envelope.effects.clone(), envelope.queries.clone()).await;
    Ok(Sent {
        status: envelope.status,
        body: envelope.body.clone().into_bytes(),
        envelope: Some(envelope),
    })
}
