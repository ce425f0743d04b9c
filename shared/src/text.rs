//! Text for messages that leave the process (run records, notifications, logs, Lambda diagnostics): cut to a
//! length without splitting a character, and an error told with its causes. One place, so every crate cuts and
//! chains the same way.

use std::error::Error;

/// `text` cut to at most `max` characters (never inside a character), with an ellipsis when cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((byte_index, _)) => format!("{}…", &text[..byte_index]),
        None => text.to_owned(),
    }
}

/// `error` followed by its causes, `": "`-separated ("error sending request: tcp connect error: Connection
/// refused"). A cause whose text the message already holds is skipped, so an error that prints its source (or its
/// source's whole chain, as `StoreError` and `NotifyError` do) does not say it twice.
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate_chars("short", 10), "short");
        assert_eq!(truncate_chars("exactly", 7), "exactly");
        assert_eq!(truncate_chars("ééééé", 3), "ééé…");
        assert_eq!(truncate_chars("", 0), "");
        assert_eq!(truncate_chars("x", 0), "…");
    }

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("request failed")]
        Plain(#[source] Inner),
        #[error("store unavailable: {0}")]
        Repeating(#[source] Inner),
    }

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Inner;

    #[test]
    fn the_chain_names_every_cause_once() {
        assert_eq!(
            error_chain(&Outer::Plain(Inner)),
            "request failed: connection refused"
        );
        assert_eq!(
            error_chain(&Outer::Repeating(Inner)),
            "store unavailable: connection refused"
        );
        assert_eq!(error_chain(&Inner), "connection refused");
    }
}
