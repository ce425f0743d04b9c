//! The engine's JSON documents as types: the start answer, the session document and error bodies, read with serde
//! and turned into what the port speaks ([`SessionState`], a session id, an error detail).
//!
//! Engines differ in what they send, so the reading is lenient where the contract is loose: unknown fields are
//! ignored, an optional field of an unexpected shape counts as absent (see [`Lenient`]), and where engines name
//! the same thing differently (`completed_at` / `finished_at` / `ended_at`) each name is its own field, read in
//! order of preference, because a serde alias would reject a document that carries two of them. What the contract
//! requires (a session id, a status) is strict: without it the answer is an [`EngineError::InvalidResponse`]
//! saying what is wrong.

use super::{MAX_DETAIL_CHARS, MAX_SESSION_ID_CHARS, MAX_SUMMARY_CHARS};
use crate::domain::findings::{Entity, ReportedFinding, ReportedFindings, Severity};
use crate::ports::{EngineError, SessionState};
use crate::text::truncate_chars;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::fmt;
use std::marker::PhantomData;

/// The answer to `POST /api/v1/investigations/start`.
#[derive(Debug, Deserialize)]
struct StartResponse {
    session_id: String,
}

/// A session document, the answer to `GET /api/v1/sessions/{id}`. Only `status` is required. New fields (the
/// findings, say) go here as `#[serde(default)]` fields; their shapes as their own types.
#[derive(Debug, Deserialize)]
struct SessionBody {
    status: String,
    #[serde(default)]
    summary: Lenient<String>,
    #[serde(default)]
    result: Lenient<Object<Nested>>,
    #[serde(default)]
    report: Lenient<Object<Nested>>,
    #[serde(default)]
    final_report: Lenient<String>,
    #[serde(default)]
    error: Lenient<SessionError>,
    #[serde(default)]
    detail: Option<Detail>,
    #[serde(default)]
    message: Lenient<String>,
    #[serde(default)]
    completed_at: Lenient<Timestamp>,
    #[serde(default)]
    finished_at: Lenient<Timestamp>,
    #[serde(default)]
    ended_at: Lenient<Timestamp>,
    #[serde(default)]
    findings: Lenient<FindingList>,
}

/// `result` and `report`: objects whose `summary` is the report and whose `findings` are the findings.
#[derive(Debug, Deserialize)]
struct Nested {
    #[serde(default)]
    summary: Lenient<String>,
    #[serde(default)]
    findings: Lenient<FindingList>,
}

/// A list of findings: each item that is not a finding (not an object, no title) is skipped and counted.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct FindingList(Vec<Lenient<Object<WireFinding>>>);

/// One finding as engines send it. Aliases are fields of their own, read in order of preference (`title`, then
/// `name`), so a finding that carries both still reads.
#[derive(Debug, Deserialize)]
struct WireFinding {
    #[serde(default)]
    title: Lenient<String>,
    #[serde(default)]
    name: Lenient<String>,
    #[serde(default)]
    severity: Lenient<String>,
    #[serde(default)]
    description: Lenient<String>,
    #[serde(default)]
    entities: Lenient<OneOrMany<WireEntity>>,
    #[serde(default)]
    iocs: Lenient<OneOrMany<WireEntity>>,
    #[serde(default)]
    indicators: Lenient<OneOrMany<WireEntity>>,
    #[serde(default)]
    mitre_techniques: Lenient<OneOrMany<WireTechnique>>,
    #[serde(default)]
    techniques: Lenient<OneOrMany<WireTechnique>>,
    #[serde(default)]
    mitre: Lenient<OneOrMany<WireTechnique>>,
    #[serde(default)]
    id: Lenient<WireId>,
}

/// A list, or a single item where a list is expected (`"mitre": "T1110"`). Items of another shape are dropped.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<Lenient<T>>),
    One(T),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            Self::Many(items) => items.into_iter().filter_map(|i| i.0).collect(),
            Self::One(item) => vec![item],
        }
    }
}

/// An entity: its value as text, or `{type, value}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireEntity {
    Text(String),
    Object(Object<EntityObject>),
}

#[derive(Debug, Deserialize)]
struct EntityObject {
    #[serde(rename = "type", default)]
    kind: Lenient<String>,
    value: WireId,
}

/// A technique: its id as text, or an object with an `id`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireTechnique {
    Id(String),
    Object(Object<TechniqueObject>),
}

#[derive(Debug, Deserialize)]
struct TechniqueObject {
    id: String,
}

/// An id or value that engines send as text or as a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireId {
    Text(String),
    Number(serde_json::Number),
}

impl WireId {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Number(n) => n.to_string(),
        }
    }
}

impl WireFinding {
    /// The finding, bounded; `None` when it has no title.
    fn into_reported(self) -> Option<ReportedFinding> {
        let title = self
            .title
            .non_empty()
            .or_else(|| self.name.non_empty())?
            .to_owned();
        fn list<T>(l: Lenient<OneOrMany<T>>) -> Option<Vec<T>> {
            l.0.map(OneOrMany::into_vec)
        }
        let entities = list(self.entities)
            .or_else(|| list(self.iocs))
            .or_else(|| list(self.indicators))
            .unwrap_or_default()
            .into_iter()
            .map(|e| match e {
                WireEntity::Text(value) => Entity { kind: None, value },
                WireEntity::Object(Object(o)) => Entity {
                    kind: o.kind.0,
                    value: o.value.into_text(),
                },
            });
        let techniques = list(self.mitre_techniques)
            .or_else(|| list(self.techniques))
            .or_else(|| list(self.mitre))
            .unwrap_or_default()
            .into_iter()
            .map(|t| match t {
                WireTechnique::Id(id) => id,
                WireTechnique::Object(Object(o)) => o.id,
            });
        ReportedFinding::bounded(
            &title,
            Severity::lenient(self.severity.0.as_deref().unwrap_or_default()),
            self.description.non_empty(),
            entities,
            techniques,
            self.id.0.map(WireId::into_text).as_deref(),
        )
    }
}

impl FindingList {
    fn read(self) -> ReportedFindings {
        let mut skipped = 0u32;
        let findings = self
            .0
            .into_iter()
            .filter_map(|item| {
                let finding = item.0.and_then(|Object(f)| f.into_reported());
                if finding.is_none() {
                    skipped += 1;
                }
                finding
            })
            .collect();
        ReportedFindings::capped(findings, skipped)
    }
}

/// A session's `error`: a message, or an object carrying one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SessionError {
    Text(String),
    Object(Object<ErrorObject>),
}

#[derive(Debug, Deserialize)]
struct ErrorObject {
    #[serde(default)]
    message: Lenient<String>,
}

/// FastAPI's `detail`: a message, or anything else (a list of field errors, an object), told as compact JSON.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Detail {
    Text(String),
    Other(Value),
}

impl Detail {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text.trim().to_owned(),
            Self::Other(value) => value.to_string(),
        }
    }
}

/// A non-2xx body: an object, usually with a `detail`, or any other JSON value.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ErrorBody {
    Object {
        #[serde(default)]
        detail: Option<Detail>,
        /// The other fields, told instead when there is no `detail`.
        #[serde(flatten)]
        rest: Map<String, Value>,
    },
    Other(Value),
}

/// An optional field read leniently: a value of another shape counts as absent instead of failing the document.
#[derive(Debug)]
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape<T> {
            Expected(T),
            Other(IgnoredAny),
        }
        Ok(Self(match Shape::deserialize(deserializer)? {
            Shape::Expected(value) => Some(value),
            Shape::Other(_) => None,
        }))
    }
}

/// `T` read from a JSON object only: serde would also build a struct from an array, field by position.
#[derive(Debug)]
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Self)
    }
}

impl Lenient<String> {
    /// The text, trimmed, unless it is blank.
    fn non_empty(&self) -> Option<&str> {
        self.0.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
}

impl Lenient<Object<Nested>> {
    fn nested_summary(&self) -> Option<&str> {
        self.0
            .as_ref()
            .and_then(|nested| nested.0.summary.non_empty())
    }
}

/// RFC 3339, or an ISO 8601 date-time without offset (Python's `isoformat()` of a naive datetime), taken as UTC.
#[derive(Debug, Clone, Copy)]
struct Timestamp(DateTime<Utc>);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_timestamp(&text)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom("not an ISO 8601 date-time"))
    }
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

impl SessionBody {
    fn state(self) -> Result<SessionState, EngineError> {
        let status = self.status.trim().to_ascii_lowercase();
        match status.as_str() {
            "active" | "running" | "in_progress" | "pending" | "queued" | "started" => {
                Ok(SessionState::Active)
            }
            "completed" | "complete" | "succeeded" | "success" | "done" | "finished" => {
                Ok(SessionState::Completed {
                    summary: self.summary(),
                    finished_at: self.finished_at(),
                    findings: self.findings(),
                })
            }
            "failed" | "error" | "errored" | "cancelled" | "canceled" | "timeout" | "timed_out" => {
                Ok(SessionState::Failed {
                    finished_at: self.finished_at(),
                    message: self
                        .failure_message()
                        .unwrap_or_else(|| format!("the engine reported the session as {status}")),
                })
            }
            other => Err(EngineError::InvalidResponse(format!(
                "unknown session status {:?}",
                truncate_chars(other, 64)
            ))),
        }
    }

    /// The first list of `findings`, `report.findings`, `result.findings`; none when there is none.
    fn findings(self) -> ReportedFindings {
        let nested = |n: Lenient<Object<Nested>>| n.0.and_then(|Object(n)| n.findings.0);
        self.findings
            .0
            .or_else(|| nested(self.report))
            .or_else(|| nested(self.result))
            .map(FindingList::read)
            .unwrap_or_default()
    }

    fn finished_at(&self) -> Option<DateTime<Utc>> {
        [&self.completed_at, &self.finished_at, &self.ended_at]
            .into_iter()
            .find_map(|t| t.0)
            .map(|t| t.0)
    }

    /// The first non-blank of `summary`, `result.summary`, `report.summary`, `final_report`.
    fn summary(&self) -> Option<String> {
        self.summary
            .non_empty()
            .or_else(|| self.result.nested_summary())
            .or_else(|| self.report.nested_summary())
            .or_else(|| self.final_report.non_empty())
            .map(|summary| truncate_chars(summary, MAX_SUMMARY_CHARS))
    }

    /// The first non-blank of `error` (text or `error.message`), `detail`, `message`.
    fn failure_message(self) -> Option<String> {
        let error = match self.error.0 {
            Some(SessionError::Text(text)) => Some(text.trim().to_owned()),
            Some(SessionError::Object(Object(object))) => {
                object.message.non_empty().map(str::to_owned)
            }
            None => None,
        };
        let message = error
            .filter(|m| !m.is_empty())
            .or_else(|| self.detail.map(Detail::into_text))
            .filter(|m| !m.is_empty())
            .or_else(|| self.message.non_empty().map(str::to_owned))?;
        Some(truncate_chars(&message, MAX_SUMMARY_CHARS))
    }
}

/// Reads a 2xx body as `T`; `what` names the document in the message when it is JSON of the wrong shape.
fn read<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, EngineError> {
    serde_json::from_slice(body).map_err(|e| {
        EngineError::InvalidResponse(match e.classify() {
            serde_json::error::Category::Data => format!("body is not {what}: {e}"),
            _ => format!("body is not JSON: {e}"),
        })
    })
}

/// The session id of a start answer, trimmed; refused when empty or longer than [`MAX_SESSION_ID_CHARS`].
pub(super) fn parse_start_response(body: &[u8]) -> Result<String, EngineError> {
    let Object(start) = read::<Object<StartResponse>>(body, "a start answer")?;
    let session_id = start.session_id.trim();
    if session_id.is_empty() {
        return Err(EngineError::InvalidResponse("empty session_id".to_owned()));
    }
    if session_id.chars().count() > MAX_SESSION_ID_CHARS {
        return Err(EngineError::InvalidResponse(format!(
            "session_id longer than {MAX_SESSION_ID_CHARS} characters"
        )));
    }
    Ok(session_id.to_owned())
}

/// Reads a session document. Status words are matched case-insensitively; unknown fields are ignored.
pub fn parse_session_response(body: &[u8]) -> Result<SessionState, EngineError> {
    read::<Object<SessionBody>>(body, "a session document")?
        .0
        .state()
}

/// The `detail` of a `{"detail": ...}` error body (a string, or compact JSON for lists and objects); for other
/// bodies, their start as text. `None` for an empty body.
pub(super) fn error_detail(body: &[u8]) -> Option<String> {
    let detail = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody::Object {
            detail: Some(detail),
            ..
        }) => detail.into_text(),
        Ok(ErrorBody::Object { detail: None, rest }) => Value::Object(rest).to_string(),
        Ok(ErrorBody::Other(value)) => value.to_string(),
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    let detail = detail.trim();
    (!detail.is_empty()).then(|| truncate_chars(detail, MAX_DETAIL_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn invalid(result: Result<impl std::fmt::Debug, EngineError>) -> String {
        match result {
            Err(EngineError::InvalidResponse(message)) => message,
            other => panic!("expected an invalid response, got {other:?}"),
        }
    }

    #[test]
    fn long_details_are_cut() {
        let body = serde_json::json!({ "detail": "x".repeat(5000) }).to_string();
        let detail = error_detail(body.as_bytes()).unwrap();
        assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(detail.ends_with('…'));
    }

    #[test]
    fn error_details_of_every_shape() {
        let detail = |body: &str| error_detail(body.as_bytes());
        assert_eq!(detail(r#"{"detail":" busy "}"#), Some("busy".into()));
        assert_eq!(
            detail(r#"{"detail":[{"msg":"field required"}]}"#),
            Some(r#"[{"msg":"field required"}]"#.into())
        );
        assert_eq!(detail(r#"{"detail":5}"#), Some("5".into()));
        // Without a detail the rest of the object is told; a null detail is no detail.
        assert_eq!(
            detail(r#"{"detail":null,"code":"E1"}"#),
            Some(r#"{"code":"E1"}"#.into())
        );
        assert_eq!(detail(r#"{"error":"x"}"#), Some(r#"{"error":"x"}"#.into()));
        assert_eq!(detail(r#"["a",1]"#), Some(r#"["a",1]"#.into()));
        assert_eq!(detail("  plain text \n"), Some("plain text".into()));
        assert_eq!(detail(""), None);
        assert_eq!(detail(r#"{"detail":"  "}"#), None);
    }

    #[test]
    fn start_response_needs_a_session_id() {
        assert_eq!(
            parse_start_response(br#"{"session_id":" abc ","status":"active"}"#),
            Ok("abc".to_owned())
        );
        for body in [
            &br#"{"status":"active"}"#[..],
            br#"{"session_id":""}"#,
            br#"{"session_id":42}"#,
            b"[]",
            b"nope",
        ] {
            assert!(
                matches!(
                    parse_start_response(body),
                    Err(EngineError::InvalidResponse(_))
                ),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let long = format!(
            r#"{{"session_id":"{}"}}"#,
            "s".repeat(MAX_SESSION_ID_CHARS + 1)
        );
        assert!(invalid(parse_start_response(long.as_bytes())).contains("longer than"));
    }

    #[test]
    fn invalid_responses_say_what_is_wrong() {
        let start = |body: &[u8]| invalid(parse_start_response(body));
        let session = |body: &[u8]| invalid(parse_session_response(body));
        assert!(
            start(b"nope").starts_with("body is not JSON"),
            "{}",
            start(b"nope")
        );
        let missing = start(br#"{"status":"active"}"#);
        assert!(missing.contains("missing field `session_id`"), "{missing}");
        let wrong_type = start(br#"{"session_id":42}"#);
        assert!(
            wrong_type.contains("invalid type: integer `42`"),
            "{wrong_type}"
        );
        assert_eq!(start(br#"{"session_id":"  "}"#), "empty session_id");
        // An array is not a document, even one whose items line up with the fields.
        assert!(start(br#"["abc"]"#).starts_with("body is not a start answer"));
        let not_object = session(br#"["completed"]"#);
        assert!(
            not_object.starts_with("body is not a session document"),
            "{not_object}"
        );
        let no_status = session(br#"{"id":"x"}"#);
        assert!(no_status.contains("missing field `status`"), "{no_status}");
        let numeric = session(br#"{"status":3}"#);
        assert!(numeric.contains("expected a string"), "{numeric}");
        assert_eq!(
            session(br#"{"status":"Paused"}"#),
            r#"unknown session status "paused""#
        );
    }

    #[test]
    fn session_status_synonyms_map_to_states() {
        for status in [
            "active",
            "Running",
            "in_progress",
            "pending",
            "queued",
            "started",
        ] {
            let body = serde_json::json!({ "status": status }).to_string();
            assert_eq!(
                parse_session_response(body.as_bytes()),
                Ok(SessionState::Active),
                "{status}"
            );
        }
        for status in [
            "completed",
            "complete",
            "succeeded",
            "success",
            "done",
            "FINISHED",
        ] {
            let body = serde_json::json!({ "status": status }).to_string();
            assert!(
                matches!(
                    parse_session_response(body.as_bytes()),
                    Ok(SessionState::Completed { .. })
                ),
                "{status}"
            );
        }
        for status in [
            "failed",
            "error",
            "errored",
            "cancelled",
            "canceled",
            "timeout",
            "timed_out",
        ] {
            let body = serde_json::json!({ "status": status }).to_string();
            assert!(
                matches!(
                    parse_session_response(body.as_bytes()),
                    Ok(SessionState::Failed { .. })
                ),
                "{status}"
            );
        }
        assert!(matches!(
            parse_session_response(br#"{"status":"paused"}"#),
            Err(EngineError::InvalidResponse(_))
        ));
        assert!(matches!(
            parse_session_response(br#"{"id":"x"}"#),
            Err(EngineError::InvalidResponse(_))
        ));
    }

    #[test]
    fn summary_comes_from_the_first_known_field_and_is_bounded() {
        let summary = |value: Value| match parse_session_response(value.to_string().as_bytes()) {
            Ok(SessionState::Completed { summary, .. }) => summary,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            summary(serde_json::json!({"status":"completed","summary":"top"})),
            Some("top".into())
        );
        assert_eq!(
            summary(serde_json::json!({"status":"completed","result":{"summary":"nested"}})),
            Some("nested".into())
        );
        assert_eq!(
            summary(serde_json::json!({"status":"completed","report":{"summary":"rep"}})),
            Some("rep".into())
        );
        assert_eq!(
            summary(serde_json::json!({"status":"done","final_report":"final"})),
            Some("final".into())
        );
        assert_eq!(
            summary(serde_json::json!({"status":"done","summary":"  "})),
            None
        );
        // Fields of another shape count as absent (an array is not an object), and the next one in line is read.
        assert_eq!(
            summary(serde_json::json!({
                "status": "done",
                "summary": {"text": "not a string"},
                "result": "not an object",
                "report": ["array, not an object"],
                "final_report": "last resort",
            })),
            Some("last resort".into())
        );
        let long =
            summary(serde_json::json!({"status":"done","summary":"é".repeat(3000)})).unwrap();
        assert_eq!(long.chars().count(), MAX_SUMMARY_CHARS + 1);
    }

    #[test]
    fn failure_message_and_finish_time_are_read() {
        let failed = |value: Value| match parse_session_response(value.to_string().as_bytes()) {
            Ok(SessionState::Failed {
                message,
                finished_at,
            }) => (message, finished_at),
            other => panic!("{other:?}"),
        };
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 8, 5, 0).unwrap();
        assert_eq!(
            failed(
                serde_json::json!({"status":"failed","error":"boom","completed_at":"2026-11-24T08:05:00Z"})
            ),
            ("boom".into(), Some(at))
        );
        assert_eq!(
            failed(
                serde_json::json!({"status":"error","error":{"message":"obj"},"ended_at":"2026-11-24T08:05:00"})
            ),
            ("obj".into(), Some(at))
        );
        assert_eq!(
            failed(serde_json::json!({"status":"failed","detail":"det","finished_at":"yesterday"})),
            ("det".into(), None)
        );
        assert_eq!(
            failed(serde_json::json!({"status":"cancelled","message":"msg"})).0,
            "msg"
        );
        assert_eq!(
            failed(serde_json::json!({"status":"failed","detail":{"code":"E1"}})).0,
            r#"{"code":"E1"}"#
        );
        assert_eq!(
            failed(serde_json::json!({"status":"failed","error":["boom"],"message":"msg"})).0,
            "msg"
        );
        assert_eq!(
            failed(serde_json::json!({"status":"timed_out"})).0,
            "the engine reported the session as timed_out"
        );
        // An unreadable time falls through to the next name; several names may be present at once.
        assert_eq!(
            failed(serde_json::json!({
                "status": "failed",
                "completed_at": "yesterday",
                "finished_at": 17,
                "ended_at": "2026-11-24T08:05:00Z",
            }))
            .1,
            Some(at)
        );
    }
}
