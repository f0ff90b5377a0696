//! Field errors for re-rendered forms: one message per field, in form order,
//! each linked from the error summary by the field's id.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The id of the input the message is about; the summary links to `#id`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    pub list: Vec<FieldError>,
}

impl FieldErrors {
    /// Adds a message unless the field already has one; the first problem found is the one shown.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        if self.get(&field).is_none() {
            self.list.push(FieldError { field, message: message.into() });
        }
    }

    /// Adds a message even when the field has one, for a field that can
    /// fail for several reasons at once, such as a file input given several files.
    pub fn add_another(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.list.push(FieldError { field: field.into(), message: message.into() });
    }

    /// Returns every message for one field, in the order added.
    pub fn all(&self, field: &str) -> Vec<&str> {
        self.list.iter().filter(|error| error.field == field).map(|error| error.message.as_str()).collect()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.list.iter().find(|error| error.field == field).map(|error| error.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Orders the messages as the fields appear on the page.
    pub fn sort_by_field_order(&mut self, order: &[String]) {
        self.list.sort_by_key(|error| order.iter().position(|field| *field == error.field).unwrap_or(usize::MAX));
    }
}
