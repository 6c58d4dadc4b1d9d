//! Issues: why a server function refused what a form sent, field by field
//! (and for the form as a whole), as values both sides read.
//!
//! A function refuses with [`invalid`](crate::invalid) (status `422`) or
//! [`deny`](crate::deny) (`401`, `403`, `429`…); the answer carries the
//! issues to the form that was posted, with JavaScript and without, where
//! [`FieldIssues`](crate::FieldIssues) shows each beside its field.

use serde::{Deserialize, Serialize};

/// One issue: a message, about a field or (`field: None`) the whole form.
///
/// ```
/// let issue = tandem::wire::Issue { field: Some("email".into()), message: "Email must contain @".into() };
/// assert_eq!(issue.field.as_deref(), Some("email"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// The field's name, or `None` for the form as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong, for the user.
    pub message: String,
}

/// The issues of one refused submission, in the order they were found.
///
/// ```
/// let issues = tandem::Issues::new()
///     .field("username", "Username is taken")
///     .field("email", "Email must contain @")
///     .form("Nothing was stored");
/// assert_eq!(issues.of("email").collect::<Vec<_>>(), ["Email must contain @"]);
/// assert_eq!(issues.of_form().collect::<Vec<_>>(), ["Nothing was stored"]);
/// assert!(issues.of("password").next().is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Issues(Vec<Issue>);

impl Issues {
    /// No issues yet.
    ///
    /// ```
    /// assert!(tandem::Issues::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// With an issue about the field `name`.
    ///
    /// ```
    /// let issues = tandem::Issues::new().field("title", "Title is required");
    /// assert!(!issues.is_empty());
    /// ```
    pub fn field(mut self, name: impl Into<String>, message: impl Into<String>) -> Self {
        self.add(name, message);
        self
    }

    /// With an issue about the form as a whole.
    ///
    /// ```
    /// let issues = tandem::Issues::new().form("Sign in first");
    /// assert_eq!(issues.of_form().next(), Some("Sign in first"));
    /// ```
    pub fn form(mut self, message: impl Into<String>) -> Self {
        self.push(Issue {
            field: None,
            message: message.into(),
        });
        self
    }

    /// Adds an issue about the field `name` (checks that collect every
    /// failure before refusing).
    ///
    /// ```
    /// let mut issues = tandem::Issues::new();
    /// issues.add("email", "Email must contain @");
    /// issues.add("email", "Email is taken");
    /// assert_eq!(issues.of("email").count(), 2);
    /// ```
    pub fn add(&mut self, name: impl Into<String>, message: impl Into<String>) {
        self.push(Issue {
            field: Some(name.into()),
            message: message.into(),
        });
    }

    /// Adds `issue` as it is.
    ///
    /// ```
    /// let mut issues = tandem::Issues::new();
    /// issues.push(tandem::Issue { field: None, message: "Sign in first".into() });
    /// assert_eq!(issues.of_form().count(), 1);
    /// ```
    pub fn push(&mut self, issue: Issue) {
        self.0.push(issue);
    }

    /// Whether there are none.
    ///
    /// ```
    /// assert!(tandem::Issues::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    ///
    /// ```
    /// assert_eq!(tandem::Issues::new().form("x").len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The messages about the field `name`.
    ///
    /// ```
    /// let issues = tandem::Issues::new().field("a", "1").field("a", "2");
    /// assert_eq!(issues.of("a").count(), 2);
    /// ```
    pub fn of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |i| i.field.as_deref() == Some(name))
            .map(|i| i.message.as_str())
    }

    /// The messages about the form as a whole.
    ///
    /// ```
    /// assert_eq!(tandem::Issues::new().field("a", "1").of_form().count(), 0);
    /// ```
    pub fn of_form(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(|i| i.field.is_none())
            .map(|i| i.message.as_str())
    }

    /// Every issue.
    ///
    /// ```
    /// assert_eq!(tandem::Issues::new().field("a", "1").iter().count(), 1);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &Issue> {
        self.0.iter()
    }
}

/// `field: message`, one after another, separated by `; ` (a form's own
/// issues without a field name): what a caller without Tandem's client
/// reads.
///
/// ```
/// let issues = tandem::Issues::new().field("email", "Email must contain @").form("Try again");
/// assert_eq!(issues.to_string(), "email: Email must contain @; Try again");
/// ```
impl std::fmt::Display for Issues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, issue) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match &issue.field {
                Some(field) => write!(f, "{field}: {}", issue.message)?,
                None => f.write_str(&issue.message)?,
            }
        }
        Ok(())
    }
}
