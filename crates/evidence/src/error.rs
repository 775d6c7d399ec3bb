//! What goes wrong reading an export: always with the file, the line and, where there is one, the column.

/// A column of the file, as its header names it (1-based position, for a spreadsheet user looking for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub position: usize,
    pub name: String,
}

/// Why a file cannot be imported. Nothing is written from a file that has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    /// The file as the user named it.
    pub file: String,
    /// The line where the offending row starts (1 is the header).
    pub line: u64,
    /// The column at fault: `None` for a row or a file as a whole.
    pub column: Option<Column>,
    /// A column the file should have and lacks (then `column` is `None`).
    pub missing_column: Option<String>,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(column) = &self.column {
            write!(f, "column {} {:?}: ", column.position, column.name)?;
        } else if let Some(name) = &self.missing_column {
            write!(f, "column {name:?} is missing: ")?;
        }
        f.write_str(&self.message)
    }
}

impl ImportError {
    pub(crate) fn at(
        file: &str,
        line: u64,
        column: Option<Column>,
        message: impl Into<String>,
    ) -> ImportError {
        ImportError { file: file.to_owned(), line, column, missing_column: None, message: message.into() }
    }

    pub(crate) fn missing(file: &str, name: &str, message: impl Into<String>) -> ImportError {
        ImportError {
            file: file.to_owned(),
            line: 1,
            column: None,
            missing_column: Some(name.to_owned()),
            message: message.into(),
        }
    }
}
