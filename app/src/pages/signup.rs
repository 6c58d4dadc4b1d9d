//! `/signup`: issues per field, shown beside each field with JavaScript
//! and without; a file upload with its progress; a session cookie; a
//! guarded guestbook that only a signed-in user may sign.

use leptos::prelude::*;
use shared::signup::{GetGuestbook, GetSessionUser, SignGuestbook, SignUp};
use tandem::{use_form_action, use_form_status, use_upload_action, FieldIssues, Form, Input};

/// The sign-up page.
#[component]
pub fn SignupPage() -> impl IntoView {
    let sign_up = use_upload_action::<SignUp>();
    let signed_up = sign_up.value();
    view! {
        <h1>"Sign up"</h1>
        // The server checks every field: the browser is told not to.
        <Form action=sign_up reset_on_success=true attr:data-testid="signup-form" attr:novalidate="">
            <p><label>"Username " <Input name="username"/></label></p>
            <FieldIssues name="username" attr:data-testid="error-username"/>
            <p><label>"Email " <Input name="email" kind="email"/></label></p>
            <FieldIssues name="email" attr:data-testid="error-email"/>
            <p><label>"Password " <Input name="password" kind="password"/></label></p>
            <FieldIssues name="password" attr:data-testid="error-password"/>
            <p><label>"Avatar (PNG or JPEG, at most 256 KiB) " <input type="file" name="avatar"/></label></p>
            <FieldIssues name="avatar" attr:data-testid="error-avatar"/>
            <FieldIssues attr:data-testid="signup-refused"/>
            <button type="submit" data-testid="signup-submit">"Sign up"</button>
            <UploadProgress/>
        </Form>
        {move || signed_up.get().map(|user| view! {
            <p data-testid="signup-result">"Welcome, " {user.username}</p>
            {user.avatar.map(|src| view! {
                <img data-testid="avatar" src=src alt="Your avatar" width="64" height="64"/>
            })}
        })}
        <Guestbook/>
    }
}

/// The bytes of the enclosing form's upload sent so far, while it runs.
#[component]
fn UploadProgress() -> impl IntoView {
    let status = use_form_status();
    move || {
        status.progress.get().map(|(sent, total)| {
            view! {
                <p data-testid="upload-progress">
                    <progress max=total value=sent></progress>
                    " " {format!("{sent} of {total} bytes")}
                </p>
            }
        })
    }
}

/// Who is signed in, the guestbook, and the guarded form that signs it.
#[component]
fn Guestbook() -> impl IntoView {
    let user = tandem::use_query(|| GetSessionUser {});
    let entries = tandem::use_query(|| GetGuestbook {});
    let sign = use_form_action::<SignGuestbook>();
    let signed = sign.value();
    let who = move || {
        user.get().map(|user| match user {
            Ok(Some(name)) => format!("Signed in as {name}"),
            Ok(None) => "Not signed in".to_string(),
            Err(e) => e.to_string(),
        })
    };
    let list = move || entries.get().and_then(Result::ok).unwrap_or_default();
    view! {
        <h2>"Guestbook"</h2>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            <p data-testid="session-user">{who}</p>
            <ul data-testid="guestbook">
                <For each=list key=|entry| entry.id let:entry>
                    <li data-testid="guestbook-entry">
                        <strong>{entry.username}</strong> ": " {entry.message}
                    </li>
                </For>
            </ul>
        </Suspense>
        <Form action=sign reset_on_success=true attr:data-testid="guestbook-form">
            <p><label>"Message " <Input name="message"/></label></p>
            <FieldIssues name="message" attr:data-testid="error-message"/>
            <FieldIssues attr:data-testid="guestbook-refused"/>
            <button type="submit" data-testid="guestbook-submit">"Sign the guestbook"</button>
            <p data-testid="guestbook-result">{move || signed.get().unwrap_or_default()}</p>
        </Form>
    }
}
