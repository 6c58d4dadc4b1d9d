//! A form posted without JavaScript: its decoding, and what the server
//! hands the page it renders in answer.

use super::fields::{ACTION_FIELD, BUTTON_ACTION_FIELD, FORM_KEY_FIELD, SENSITIVE_FIELD};
use super::issues::Issues;

/// A form posted without JavaScript, decoded: its fields in order and the
/// server function it names (a submit button's over the form's default).
///
/// ```
/// let post = tandem::wire::FormPost::decode(b"__tandem_action=%2Fapi%2Fa&title=Hi&__tandem_button=%2Fapi%2Fb");
/// assert_eq!(post.action.as_deref(), Some("/api/b"));
/// assert_eq!(post.fields[1], ("title".to_string(), "Hi".to_string()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormPost {
    /// Every field, in the order the browser sent them.
    pub fields: Vec<(String, String)>,
    /// The server function to run, if the form names one.
    pub action: Option<String>,
}

impl FormPost {
    /// Decodes an `application/x-www-form-urlencoded` body. Never fails:
    /// bytes that are not valid percent-encoded UTF-8 decode lossily.
    ///
    /// ```
    /// let post = tandem::wire::FormPost::decode(b"a=1");
    /// assert_eq!(post.action, None);
    /// ```
    pub fn decode(body: &[u8]) -> Self {
        let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        let named = |name: &str| {
            fields
                .iter()
                .rev()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let action = named(BUTTON_ACTION_FIELD).or_else(|| named(ACTION_FIELD));
        Self { fields, action }
    }
}

/// A form submission the server ran before rendering the page (a form
/// posted without JavaScript). Tandem's server puts it in the request's
/// extensions; the page's actions start from its result.
///
/// ```
/// let s = tandem::SubmittedAction {
///     action: "/api/create_post".into(),
///     status: 200,
///     body: "\"Created post 1\"".into(),
///     fields: vec![("title".into(), "Hi".into())],
///     issues: None,
///     error_id: None,
/// };
/// assert!(s.succeeded());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubmittedAction {
    /// The server function's path.
    pub action: String,
    /// The status it answered with.
    pub status: u16,
    /// Its response body (what its codec encoded).
    pub body: String,
    /// The submitted fields, in order (sensitive ones left out).
    pub fields: Vec<(String, String)>,
    /// What the function refused, field by field.
    pub issues: Option<Issues>,
    /// When it failed unexpectedly: the id the server logged it with.
    pub error_id: Option<String>,
}

/// `fields` without the sensitive ones: those a form lists in
/// [`SENSITIVE_FIELD`], and any whose name says password.
///
/// ```
/// let fields = vec![
///     ("username".to_string(), "ann".to_string()),
///     ("password".to_string(), "hunter22".to_string()),
///     ("pin".to_string(), "1234".to_string()),
///     ("__tandem_sensitive".to_string(), "pin".to_string()),
/// ];
/// let kept = tandem::wire::without_sensitive(fields);
/// assert_eq!(kept, [("username".to_string(), "ann".to_string())]);
/// ```
pub fn without_sensitive(fields: Vec<(String, String)>) -> Vec<(String, String)> {
    let listed: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == SENSITIVE_FIELD)
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()))
        .collect();
    fields
        .into_iter()
        .filter(|(k, _)| {
            k != SENSITIVE_FIELD
                && !listed.contains(k)
                && !k.to_ascii_lowercase().contains("password")
        })
        .collect()
}

impl SubmittedAction {
    /// Whether the function returned `Ok`.
    ///
    /// ```
    /// # let s = tandem::SubmittedAction { action: String::new(), status: 500, body: String::new(), fields: vec![], issues: None, error_id: None };
    /// assert!(!s.succeeded());
    /// ```
    pub fn succeeded(&self) -> bool {
        self.status < 400
    }

    /// The key of the form that was posted, if it has one.
    ///
    /// ```
    /// # let s = tandem::SubmittedAction { action: String::new(), status: 200, body: String::new(), fields: vec![("__tandem_form".into(), "7".into())], issues: None, error_id: None };
    /// assert_eq!(s.form_key(), Some("7"));
    /// ```
    pub fn form_key(&self) -> Option<&str> {
        self.field(FORM_KEY_FIELD).filter(|k| !k.is_empty())
    }

    /// The last value submitted for `name`.
    ///
    /// ```
    /// # let s = tandem::SubmittedAction { action: String::new(), status: 200, body: String::new(), fields: vec![("a".into(), "1".into())], issues: None, error_id: None };
    /// assert_eq!(s.field("a"), Some("1"));
    /// ```
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
