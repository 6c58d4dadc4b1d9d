//! Fields that take back what the user typed after a form was posted
//! without JavaScript, safely.
//!
//! After a post without JavaScript the server renders the page in place,
//! and the fields of the form that was posted should show what was typed.
//! [`Input`] and [`TextArea`] do that (a password, a file, or any field
//! marked `sensitive` is never sent back); [`use_submitted_value`] gives
//! the value for a field of your own.
//!
//! # Raw-text elements
//!
//! Leptos writes the children of `<textarea>`, `<script>`, `<style>` and
//! `<noscript>` as they are, without escaping them (a browser reads those
//! elements' text raw, and escaping it broke hydration upstream). So
//! `<textarea>{text}</textarea>` with text from a user lets
//! `</textarea><script>…</script>` out of the element: never write a
//! user's text as the child of one of them. [`TextArea`] sets its text
//! escaped, and [`use_submitted_value`] returns a [`SubmittedValue`], which
//! is an attribute value (Leptos escapes attributes) and cannot be a child
//! at all.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tandem::{Form, Input, TextArea};
//! # #[tandem::server(endpoint = "save_note")]
//! # pub async fn save_note(title: String, body: String) -> Result<(), ServerFnError> { Ok(()) }
//!
//! #[component]
//! fn NoteForm() -> impl IntoView {
//!     let save = tandem::use_form_action::<SaveNote>();
//!     view! {
//!         <Form action=save>
//!             <Input name="title"/>
//!             <TextArea name="body"/>
//!             <button type="submit">"Save"</button>
//!         </Form>
//!     }
//! }
//! ```

use leptos::prelude::*;
use leptos::tachys::html::attribute::AttributeValue;
use std::future::Future;

/// What the user typed in field `name` of the enclosing
/// [`Form`](crate::Form), when the page is the server's answer to that form
/// posted without JavaScript. Put it in an attribute (`value=`): it is a
/// [`SubmittedValue`], which Leptos escapes there, and which cannot be
/// written as a child (see the [module docs](self)).
///
/// ```no_run
/// use leptos::prelude::*;
/// view! { <input name="title" value=tandem::use_submitted_value("title")/> };
/// ```
pub fn use_submitted_value(name: &str) -> Option<SubmittedValue> {
    crate::ui::form::submitted_field(name).map(SubmittedValue)
}

/// A value a user submitted, for an attribute only (see
/// [`use_submitted_value`]).
///
/// ```
/// let v = tandem::SubmittedValue::from("</textarea><b>");
/// assert_eq!(v.as_str(), "</textarea><b>");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmittedValue(String);

impl SubmittedValue {
    /// The text itself (escape it yourself wherever it goes).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SubmittedValue {
    fn from(text: &str) -> Self {
        Self(text.to_string())
    }
}

impl AttributeValue for SubmittedValue {
    type AsyncOutput = <String as AttributeValue>::AsyncOutput;
    type State = <String as AttributeValue>::State;
    type Cloneable = <String as AttributeValue>::Cloneable;
    type CloneableOwned = <String as AttributeValue>::CloneableOwned;

    fn html_len(&self) -> usize {
        <String as AttributeValue>::html_len(&self.0)
    }

    fn to_html(self, key: &str, buf: &mut String) {
        <String as AttributeValue>::to_html(self.0, key, buf)
    }

    fn to_template(key: &str, buf: &mut String) {
        <String as AttributeValue>::to_template(key, buf)
    }

    fn hydrate<const FROM_SERVER: bool>(
        self,
        key: &str,
        el: &leptos::tachys::renderer::types::Element,
    ) -> Self::State {
        <String as AttributeValue>::hydrate::<FROM_SERVER>(self.0, key, el)
    }

    fn build(self, el: &leptos::tachys::renderer::types::Element, key: &str) -> Self::State {
        <String as AttributeValue>::build(self.0, el, key)
    }

    fn rebuild(self, key: &str, state: &mut Self::State) {
        <String as AttributeValue>::rebuild(self.0, key, state)
    }

    fn into_cloneable(self) -> Self::Cloneable {
        <String as AttributeValue>::into_cloneable(self.0)
    }

    fn into_cloneable_owned(self) -> Self::CloneableOwned {
        <String as AttributeValue>::into_cloneable_owned(self.0)
    }

    fn dry_resolve(&mut self) {
        <String as AttributeValue>::dry_resolve(&mut self.0)
    }

    fn resolve(self) -> impl Future<Output = Self::AsyncOutput> + Send {
        <String as AttributeValue>::resolve(self.0)
    }
}

/// An `<input>` that shows what was typed in it after a post without
/// JavaScript, unless it is a password, a file or `sensitive`. Other
/// attributes go on with `attr:` (`attr:placeholder="…"`).
///
/// ```no_run
/// use leptos::prelude::*;
/// view! {
///     <tandem::Input name="email" kind="email"/>
///     <tandem::Input name="password" kind="password"/>
/// };
/// ```
#[component]
pub fn Input(
    /// The field's name.
    #[prop(into)]
    name: String,
    /// Its `type` (default `text`).
    #[prop(optional, into)]
    kind: Option<String>,
    /// Its value when the page is not the answer to a post of its form.
    #[prop(optional, into)]
    value: MaybeProp<String>,
    /// Never show a submitted value back (a password or a file never is).
    #[prop(optional)]
    sensitive: bool,
) -> impl IntoView {
    let kind = kind.unwrap_or_else(|| "text".to_string());
    let keeps = !sensitive && !matches!(kind.as_str(), "password" | "file");
    if !keeps {
        crate::ui::form::mark_sensitive(&name);
    }
    let submitted = keeps
        .then(|| crate::ui::form::submitted_field(&name))
        .flatten();
    let shown = move || submitted.clone().or_else(|| value.get());
    view! { <input type=kind name=name value=shown/> }
}

/// A `<textarea>` whose text is set escaped, so what a user typed can
/// never end the element (see the [module docs](self)); after a post
/// without JavaScript it shows what was typed, unless `sensitive`.
///
/// ```no_run
/// use leptos::prelude::*;
/// view! { <tandem::TextArea name="content" attr:rows="4"/> };
/// ```
#[component]
pub fn TextArea(
    /// The field's name.
    #[prop(into)]
    name: String,
    /// Its text when the page is not the answer to a post of its form.
    #[prop(optional, into)]
    value: MaybeProp<String>,
    /// Never show a submitted value back.
    #[prop(optional)]
    sensitive: bool,
) -> impl IntoView {
    if sensitive {
        crate::ui::form::mark_sensitive(&name);
    }
    let submitted = (!sensitive)
        .then(|| crate::ui::form::submitted_field(&name))
        .flatten();
    // The element's text, as HTML: the browser reads a textarea's text
    // with character references decoded, so escaped text shows as typed.
    let html = move || {
        let text = submitted
            .clone()
            .or_else(|| value.get())
            .unwrap_or_default();
        escape_text(&text)
    };
    view! { <textarea name=name inner_html=html></textarea> }
}

/// `text` with `&`, `<` and `>` escaped.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_would_end_the_element_is_escaped() {
        assert_eq!(
            escape_text("</textarea><script>alert(1)</script> & co"),
            "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
        );
    }
}
