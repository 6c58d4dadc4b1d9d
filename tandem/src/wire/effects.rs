//! Effects: what a server function asked for besides its result.

use super::issues::Issues;
use serde::{Deserialize, Serialize};

/// What a server function asked for besides its result.
///
/// ```
/// let fx = tandem::wire::Effects::default();
/// assert!(fx.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effects {
    /// Navigate here once the action settles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
    /// Read the current page's data again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh: bool,
    /// Pages whose data was invalidated (`revalidate_path`; `[param]`
    /// segments match any one segment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revalidated_paths: Vec<String>,
    /// Layouts whose data was invalidated (`revalidate_layout`: the path
    /// and every page under it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revalidated_layouts: Vec<String>,
    /// Tags marked stale (`revalidate_tag`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revalidated_tags: Vec<String>,
    /// Tags expired at once (`update_tag`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updated_tags: Vec<String>,
    /// Cookies were set or deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cookies_changed: bool,
    /// The function refused what was sent (`invalid`, `deny`): the issues
    /// for the form that sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issues: Option<Issues>,
}

impl Effects {
    /// Whether nothing was recorded.
    ///
    /// ```
    /// let mut fx = tandem::wire::Effects::default();
    /// fx.refresh = true;
    /// assert!(!fx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the page's server data may have changed, so the client should
    /// read it again.
    ///
    /// ```
    /// let mut fx = tandem::wire::Effects::default();
    /// assert!(!fx.page_data_changed());
    /// fx.cookies_changed = true;
    /// assert!(fx.page_data_changed());
    /// ```
    pub fn page_data_changed(&self) -> bool {
        self.refresh
            || self.cookies_changed
            || !self.revalidated_paths.is_empty()
            || !self.revalidated_layouts.is_empty()
            || !self.revalidated_tags.is_empty()
            || !self.updated_tags.is_empty()
    }
}
