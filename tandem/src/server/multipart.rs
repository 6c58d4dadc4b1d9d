//! Reading a `multipart/form-data` form inside a server function (file
//! uploads), within limits: the body arrives as a stream, text fields are
//! kept, files are kept up to their own limit, and a file over it is read
//! to its end without being kept (the function then refuses it as that
//! field's issue). Memory holds at most the limits, never a large part.
//!
//! The function takes server_fn's `MultipartData` (`input =
//! MultipartFormData`); its whole body is bounded by the function's body
//! limit (`413`) and the body timeout (`408`), checked as it streams.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use server_fn::codec::{MultipartData, MultipartFormData};
//! use tandem::server::multipart::{read_form, Limits};
//!
//! #[tandem::server(input = MultipartFormData)]
//! pub async fn upload_avatar(data: MultipartData) -> Result<usize, ServerFnError> {
//!     let form = read_form(data, Limits::default().file(256 * 1024)).await?;
//!     if form.oversized("avatar") {
//!         Err(tandem::invalid(tandem::Issues::new().field("avatar", "Avatar must be at most 256 KiB")))?;
//!     }
//!     Ok(form.file("avatar").map_or(0, |f| f.bytes.len()))
//! }
//! ```

use bytes::{Bytes, BytesMut};
use server_fn::codec::MultipartData;

/// How much a form may hold.
///
/// ```
/// let limits = tandem::server::multipart::Limits::default().file(1 << 20).text(4096);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    file: usize,
    text: usize,
    fields: usize,
}

impl Default for Limits {
    /// 1 MiB a file, 64 KiB a text field, 64 fields.
    fn default() -> Self {
        Self {
            file: 1 << 20,
            text: 64 * 1024,
            fields: 64,
        }
    }
}

impl Limits {
    /// The most bytes a file may have (more: [`FormFields::oversized`]).
    ///
    /// ```
    /// let limits = tandem::server::multipart::Limits::default().file(256 * 1024);
    /// ```
    pub fn file(mut self, bytes: usize) -> Self {
        self.file = bytes;
        self
    }

    /// The most bytes a text field may have (more: a malformed form).
    ///
    /// ```
    /// let limits = tandem::server::multipart::Limits::default().text(1024);
    /// ```
    pub fn text(mut self, bytes: usize) -> Self {
        self.text = bytes;
        self
    }

    /// The most fields a form may have (more: a malformed form).
    ///
    /// ```
    /// let limits = tandem::server::multipart::Limits::default().fields(16);
    /// ```
    pub fn fields(mut self, count: usize) -> Self {
        self.fields = count;
        self
    }
}

/// A file that was sent.
///
/// ```
/// let f = tandem::server::multipart::UploadedFile {
///     field: "avatar".into(), file_name: "me.png".into(),
///     content_type: "image/png".into(), bytes: bytes::Bytes::from_static(b"\x89PNG"),
/// };
/// assert_eq!(f.bytes.len(), 4);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedFile {
    /// Its field's name.
    pub field: String,
    /// The name the browser gave it.
    pub file_name: String,
    /// The content type the browser claimed (check the bytes yourself).
    pub content_type: String,
    /// Its bytes.
    pub bytes: Bytes,
}

/// A form that was read (see [`read_form`]).
///
/// ```
/// assert_eq!(tandem::server::multipart::FormFields::default().text("a"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormFields {
    text: Vec<(String, String)>,
    files: Vec<UploadedFile>,
    oversized: Vec<String>,
}

impl FormFields {
    /// The last value of the text field `name`.
    ///
    /// ```
    /// # use tandem::server::multipart::{read_stream, Limits};
    /// # let body = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.png\"\r\n\r\nPNG\r\n--B--\r\n";
    /// # let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    /// let form = futures::executor::block_on(read_stream(chunks, "B", Limits::default().file(2))).unwrap();
    /// assert_eq!(form.text("a"), Some("1"));
    /// ```
    pub fn text(&self, name: &str) -> Option<&str> {
        self.text
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every text field, in order.
    ///
    /// ```
    /// # use tandem::server::multipart::{read_stream, Limits};
    /// # let body = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.png\"\r\n\r\nPNG\r\n--B--\r\n";
    /// # let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    /// let form = futures::executor::block_on(read_stream(chunks, "B", Limits::default().file(2))).unwrap();
    /// assert_eq!(form.texts(), [("a".to_string(), "1".to_string())]);
    /// ```
    pub fn texts(&self) -> &[(String, String)] {
        &self.text
    }

    /// The file of the field `name`, if one was sent (an empty file input
    /// sends none) and it was within the limit.
    ///
    /// ```
    /// # use tandem::server::multipart::{read_stream, Limits};
    /// # let body = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.png\"\r\n\r\nPNG\r\n--B--\r\n";
    /// # let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    /// let form = futures::executor::block_on(read_stream(chunks, "B", Limits::default().file(2))).unwrap();
    /// assert!(form.file("f").is_none(), "3 bytes: over the limit of 2");
    /// ```
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.iter().rev().find(|f| f.field == name)
    }

    /// Every file kept, in order.
    ///
    /// ```
    /// assert!(tandem::server::multipart::FormFields::default().files().is_empty());
    /// ```
    pub fn files(&self) -> &[UploadedFile] {
        &self.files
    }

    /// Whether the field `name` held a file over the limit (not kept).
    ///
    /// ```
    /// # use tandem::server::multipart::{read_stream, Limits};
    /// # let body = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.png\"\r\n\r\nPNG\r\n--B--\r\n";
    /// # let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    /// let form = futures::executor::block_on(read_stream(chunks, "B", Limits::default().file(2))).unwrap();
    /// assert!(form.oversized("f"));
    /// ```
    pub fn oversized(&self, name: &str) -> bool {
        self.oversized.iter().any(|f| f == name)
    }
}

/// Why a multipart form could not be read.
///
/// ```
/// let e = tandem::server::multipart::MultipartError::TooManyFields(16);
/// assert_eq!(e.to_string(), "the form has more than 16 fields");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum MultipartError {
    /// Not readable as multipart (or its body stopped: over the function's
    /// limit, or too slow, which Tandem answers with `413` / `408`).
    #[error("the form cannot be read: {0}")]
    Malformed(String),
    /// More fields than [`Limits::fields`].
    #[error("the form has more than {0} fields")]
    TooManyFields(usize),
    /// A text field over [`Limits::text`].
    #[error("the field {0:?} is longer than {1} bytes")]
    TextTooLong(String, usize),
    /// Not server-side data (called in the browser).
    #[error("a multipart form is read on the server")]
    NotOnServer,
}

/// Reads the form `data` carries, within `limits` (see the
/// [module docs](self)). The text fields are also noted for the page
/// rendered after a post without JavaScript, so that what was typed comes
/// back (fields the form marks sensitive excepted). A form it cannot read
/// refuses the call with `400` and what was wrong (the status of a body
/// that stopped, over its limit or too slow, is `413` or `408`); return
/// the error with `?`.
pub async fn read_form(data: MultipartData, limits: Limits) -> Result<FormFields, MultipartError> {
    let multipart = data.into_inner().ok_or(MultipartError::NotOnServer)?;
    match read(multipart, limits).await {
        Ok(form) => {
            super::record::note_submitted(form.texts());
            Ok(form)
        }
        Err(e) => {
            super::record::deny(http::StatusCode::BAD_REQUEST, e.to_string());
            Err(e)
        }
    }
}

/// Reads a `multipart/form-data` body from any byte stream (`boundary`
/// from its content type), within `limits`: what [`read_form`] does, for a
/// body you hold yourself (a plain axum handler, a test).
///
/// ```
/// use tandem::server::multipart::{read_stream, Limits};
/// let body = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--\r\n";
/// let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
/// let form = futures::executor::block_on(read_stream(chunks, "B", Limits::default())).unwrap();
/// assert_eq!(form.text("a"), Some("1"));
/// ```
pub async fn read_stream<S, E>(
    stream: S,
    boundary: impl Into<String>,
    limits: Limits,
) -> Result<FormFields, MultipartError>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    read(multer::Multipart::new(stream, boundary), limits).await
}

/// Reads a multer stream within `limits`.
pub(crate) async fn read(
    mut multipart: multer::Multipart<'static>,
    limits: Limits,
) -> Result<FormFields, MultipartError> {
    let malformed = |e: multer::Error| MultipartError::Malformed(e.to_string());
    let mut form = FormFields::default();
    let mut count = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        count += 1;
        if count > limits.fields {
            return Err(MultipartError::TooManyFields(limits.fields));
        }
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let content_type = field
            .content_type()
            .map(|m| m.to_string())
            .unwrap_or_else(|| "application/octet-stream".into());
        let limit = if file_name.is_some() {
            limits.file
        } else {
            limits.text
        };
        let mut bytes = BytesMut::new();
        let mut over = false;
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            // Past the limit the rest is read, not kept.
            if !over && bytes.len() + chunk.len() <= limit {
                bytes.extend_from_slice(&chunk);
            } else {
                over = true;
                bytes = BytesMut::new();
            }
        }
        match file_name {
            // A file input left empty sends a part with no name and no bytes.
            Some(file_name) if file_name.is_empty() && bytes.is_empty() && !over => {}
            Some(_) if over => form.oversized.push(name),
            Some(file_name) => form.files.push(UploadedFile {
                field: name,
                file_name,
                content_type,
                bytes: bytes.freeze(),
            }),
            None if over => return Err(MultipartError::TextTooLong(name, limits.text)),
            None => form.text.push((
                name,
                String::from_utf8(bytes.to_vec()).map_err(|_| {
                    MultipartError::Malformed("a text field that is not UTF-8".into())
                })?,
            )),
        }
    }
    Ok(form)
}

/// The value of the first text field named `name` in the first `prefix`
/// bytes of a multipart body (`boundary` from its content type): how the
/// no-JS path finds the function a form names before streaming the rest
/// to it. `None` if the prefix does not hold it whole.
///
/// ```
/// use tandem::server::multipart::field_in_prefix;
/// let body = b"--XX\r\nContent-Disposition: form-data; name=\"__tandem_action\"\r\n\r\n/api/sign_up\r\n--XX\r\n";
/// assert_eq!(field_in_prefix(body, "XX", "__tandem_action").as_deref(), Some("/api/sign_up"));
/// assert_eq!(field_in_prefix(body, "XX", "other"), None);
/// ```
pub fn field_in_prefix(prefix: &[u8], boundary: &str, name: &str) -> Option<String> {
    let delimiter = format!("--{boundary}");
    let text = prefix;
    let mut at = 0;
    while let Some(start) = find(&text[at..], delimiter.as_bytes()) {
        let part = at + start + delimiter.len();
        let head_end = find(&text[part..], b"\r\n\r\n")? + part;
        let head = std::str::from_utf8(&text[part..head_end]).ok()?;
        let value_start = head_end + 4;
        let value_end =
            find(&text[value_start..], format!("\r\n{delimiter}").as_bytes())? + value_start;
        let names_it = head
            .split(';')
            .map(str::trim)
            .any(|p| p == format!("name=\"{name}\""));
        let is_file = head.contains("filename=");
        if names_it && !is_file {
            return std::str::from_utf8(&text[value_start..value_end])
                .ok()
                .map(str::to_string);
        }
        at = value_end + 2;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "XyZ";

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file, bytes) in parts {
            out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match file {
                Some(file) => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
                ),
                None => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }

    fn read_body(bytes: Vec<u8>, limits: Limits) -> Result<FormFields, MultipartError> {
        let stream = futures::stream::iter(
            bytes
                .chunks(7)
                .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        );
        futures::executor::block_on(read_stream(stream, BOUNDARY, limits))
    }

    #[test]
    fn text_and_files_are_read_within_their_limits() {
        let form = read_body(
            body(&[
                ("username", None, b"ann"),
                ("avatar", Some("a.png"), &[1, 2, 3]),
                ("big", Some("b.png"), &[0; 100]),
                ("empty", Some(""), b""),
            ]),
            Limits::default().file(50),
        )
        .expect("read");
        assert_eq!(form.text("username"), Some("ann"));
        let avatar = form.file("avatar").expect("avatar");
        assert_eq!(avatar.bytes.as_ref(), &[1, 2, 3]);
        assert_eq!(avatar.content_type, "image/png");
        assert!(form.file("big").is_none());
        assert!(form.oversized("big"));
        assert!(!form.oversized("avatar"));
        assert!(
            form.file("empty").is_none(),
            "an empty file input sends no file"
        );
    }

    #[test]
    fn too_many_fields_or_long_text_are_refused() {
        let many: Vec<(&str, Option<&str>, &[u8])> =
            (0..5).map(|_| ("a", None, &b"1"[..])).collect();
        assert!(matches!(
            read_body(body(&many), Limits::default().fields(4)),
            Err(MultipartError::TooManyFields(4))
        ));
        assert!(matches!(
            read_body(body(&[("a", None, &[b'x'; 10])]), Limits::default().text(5)),
            Err(MultipartError::TextTooLong(_, 5))
        ));
        assert!(matches!(
            read_body(b"--XyZ\r\ngarbage".to_vec(), Limits::default()),
            Err(MultipartError::Malformed(_))
        ));
    }

    #[test]
    fn the_action_field_is_found_in_a_prefix() {
        let all = body(&[
            ("__tandem_action", None, b"/api/sign_up"),
            ("avatar", Some("a.png"), &[0; 64]),
        ]);
        assert_eq!(
            field_in_prefix(&all[..120], BOUNDARY, "__tandem_action").as_deref(),
            Some("/api/sign_up")
        );
        assert_eq!(
            field_in_prefix(&all[..20], BOUNDARY, "__tandem_action"),
            None
        );
    }
}
