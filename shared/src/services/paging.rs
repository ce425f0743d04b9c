//! Paging of the newest-first listings (schedules, runs, notifications): a `limit`, and either an `offset` (kept
//! for SoCMate compatibility) or an opaque `cursor` from the previous page's `next_cursor`, which lets every store
//! read just the page however deep it is.

use crate::ports::{After, PageStart};
use crate::{FieldError, ServiceError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

pub const LIST_DEFAULT: u32 = 20;
pub const LIST_MAX: u32 = 100;

/// What a caller asked for: how many, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub limit: u32,
    pub offset: u32,
    pub start: PageStart,
}

impl PageRequest {
    /// [`PageRequest::parse`] of what a caller sent.
    pub fn of(query: &super::PageQuery, default: u32) -> Result<Self, ServiceError> {
        Self::parse(query.limit, query.offset, query.cursor.as_deref(), default)
    }

    /// Checks `limit` (1..=[`LIST_MAX`], default `default`), `offset` and `cursor` (not both).
    pub fn parse(
        limit: Option<u32>,
        offset: Option<u32>,
        cursor: Option<&str>,
        default: u32,
    ) -> Result<Self, ServiceError> {
        let limit = limit.unwrap_or(default);
        if !(1..=LIST_MAX).contains(&limit) {
            return Err(invalid(
                "limit",
                "range",
                format!("limit must be between 1 and {LIST_MAX}"),
            ));
        }
        let offset = offset.unwrap_or(0);
        let start = match cursor.filter(|c| !c.is_empty()) {
            None => PageStart::Offset(offset),
            Some(_) if offset > 0 => {
                return Err(invalid(
                    "cursor",
                    "conflict",
                    "use either offset or cursor, not both",
                ));
            }
            Some(cursor) => PageStart::After(decode(cursor).ok_or_else(|| {
                invalid(
                    "cursor",
                    "value_error",
                    "not a cursor this API gave out; pass next_cursor from the previous page",
                )
            })?),
        };
        Ok(Self {
            limit,
            offset,
            start,
        })
    }

    /// How many items to ask the store for: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> u32 {
        self.limit + 1
    }

    /// Cuts `items` (as fetched) to the page and says where the next page starts, if there is one.
    pub fn page<T>(
        &self,
        mut items: Vec<T>,
        key: impl Fn(&T) -> (DateTime<Utc>, String),
    ) -> (Vec<T>, Option<String>) {
        if items.len() <= self.limit as usize {
            return (items, None);
        }
        items.truncate(self.limit as usize);
        let next = items.last().map(|last| {
            let (at, id) = key(last);
            encode(&After { at, id })
        });
        (items, next)
    }
}

fn invalid(name: &str, kind: &str, msg: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(vec![FieldError::query(name, kind, msg)])
}

fn encode(after: &After) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", after.at.timestamp_millis(), after.id))
}

fn decode(cursor: &str) -> Option<After> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (millis, id) = text.split_once('.')?;
    if id.is_empty() {
        return None;
    }
    Some(After {
        at: DateTime::from_timestamp_millis(millis.parse().ok()?)?,
        id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_a_422_on_cursor() {
        let after = After {
            at: DateTime::from_timestamp_millis(1_900_000_000_123).unwrap(),
            id: "sch_01J.x".into(),
        };
        let cursor = encode(&after);
        assert!(
            cursor
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        let page = PageRequest::parse(Some(5), None, Some(&cursor), LIST_DEFAULT).unwrap();
        assert_eq!(page.start, PageStart::After(after));
        assert_eq!(page.fetch(), 6);

        for bad in [
            "x",
            "!!!",
            &URL_SAFE_NO_PAD.encode("123"),
            &URL_SAFE_NO_PAD.encode("abc.sch"),
        ] {
            let err = PageRequest::parse(None, None, Some(bad), LIST_DEFAULT).unwrap_err();
            assert!(
                matches!(&err, ServiceError::Invalid(e) if e[0].loc == ["query", "cursor"]),
                "{bad}: {err:?}"
            );
        }
        let both = PageRequest::parse(None, Some(20), Some(&cursor), LIST_DEFAULT).unwrap_err();
        assert!(
            both.to_string().contains("either offset or cursor"),
            "{both}"
        );
        let limit = PageRequest::parse(Some(101), None, None, LIST_DEFAULT).unwrap_err();
        assert!(limit.to_string().contains("between 1 and 100"), "{limit}");
    }

    #[test]
    fn a_page_says_where_the_next_one_starts_only_when_there_is_one() {
        let page = PageRequest::parse(Some(2), None, None, LIST_DEFAULT).unwrap();
        let at = DateTime::from_timestamp_millis(0).unwrap();
        let key = |id: &&str| (at, (*id).to_owned());
        let (items, next) = page.page(vec!["c", "b", "a"], key);
        assert_eq!(items, ["c", "b"]);
        let next = PageRequest::parse(Some(2), None, next.as_deref(), LIST_DEFAULT).unwrap();
        assert_eq!(next.start, PageStart::After(After { at, id: "b".into() }));
        assert_eq!(page.page(vec!["b", "a"], key), (vec!["b", "a"], None));
    }
}
