//! The demo's browser entry points.
//!
//! - `hydrate` feature: `hydrate()`, called by the script leptos_axum puts in
//!   the server-rendered page (built by cargo-leptos or `cargo xtask`).
//! - `csr` feature: `mount()`, run on load of the Trunk SPA build.
// `hydrate_lazy`'s future over the app's route tuple (lazy routes) is
// deeper than rustc's default query depth allows.
#![recursion_limit = "256"]

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}

#[cfg(all(feature = "csr", not(feature = "hydrate")))]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
