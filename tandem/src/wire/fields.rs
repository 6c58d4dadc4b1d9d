//! The names of the hidden fields Tandem's forms carry.

/// Hidden form field naming the server function a no-JS form post runs
/// (the form's default action).
///
/// ```
/// assert_eq!(tandem::wire::ACTION_FIELD, "__tandem_action");
/// ```
pub const ACTION_FIELD: &str = "__tandem_action";

/// Name of a submit button's field that overrides [`ACTION_FIELD`] (the
/// `formAction` counterpart).
///
/// ```
/// assert_eq!(tandem::wire::BUTTON_ACTION_FIELD, "__tandem_button");
/// ```
pub const BUTTON_ACTION_FIELD: &str = "__tandem_button";

/// Name of the form field that carries the previous state of an action
/// (see [`Prev`](super::prev::Prev)).
///
/// ```
/// assert_eq!(tandem::wire::PREV_FIELD, "prev");
/// ```
pub const PREV_FIELD: &str = "prev";

/// Hidden field carrying a form's own key (see the `key` of
/// [`Form`](crate::Form)), so that the answer to a post without JavaScript
/// goes back to that form and to no other of the same function.
///
/// ```
/// assert_eq!(tandem::wire::FORM_KEY_FIELD, "__tandem_form");
/// ```
pub const FORM_KEY_FIELD: &str = "__tandem_form";

/// Hidden field listing (comma separated) the fields of a form that are
/// never sent back to the page after a post without JavaScript (a
/// password): [`Input`](crate::Input) adds its name when it is sensitive.
///
/// ```
/// assert_eq!(tandem::wire::SENSITIVE_FIELD, "__tandem_sensitive");
/// ```
pub const SENSITIVE_FIELD: &str = "__tandem_sensitive";
