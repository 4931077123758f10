//! JSON documents kept in text columns, decoded when the row is read. A value the code cannot
//! read fails the read (sqlx names the column) instead of turning into a default, and the API
//! shows the document as an object, not as a string holding JSON.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A JSON document of type `T` read from a text column.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonColumn<T>(pub T);

impl<T: DeserializeOwned> TryFrom<String> for JsonColumn<T> {
    type Error = serde_json::Error;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&text).map(JsonColumn)
    }
}

/// A nullable column: NULL is `None`, text is decoded.
impl<T: DeserializeOwned> TryFrom<Option<String>> for JsonColumn<Option<T>> {
    type Error = serde_json::Error;

    fn try_from(text: Option<String>) -> Result<Self, Self::Error> {
        text.map(|text| serde_json::from_str(&text))
            .transpose()
            .map(JsonColumn)
    }
}

impl<T> std::ops::Deref for JsonColumn<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_the_code_cannot_read_fails_instead_of_defaulting() {
        let ids: JsonColumn<Vec<i64>> = JsonColumn::try_from("[1,2]".to_string()).unwrap();
        assert_eq!(*ids, vec![1, 2]);
        assert!(JsonColumn::<Vec<i64>>::try_from("{\"a\":1}".to_string()).is_err());
        assert!(JsonColumn::<Vec<i64>>::try_from(String::new()).is_err());
        let absent: JsonColumn<Option<Vec<i64>>> = JsonColumn::try_from(None::<String>).unwrap();
        assert_eq!(*absent, None);
    }
}
