//! The OpenAPI 3.1 document served at `/openapi.json`, kept beside the router so the two change together.

use serde_json::{Value, json};

fn op(summary: &str, ok: &str, body: Option<&str>, params: &[&str]) -> Value {
    let mut o = json!({
        "summary": summary,
        "security": [{"bearer": []}],
        "responses": {
            ok: {"description": "Success"},
            "401": {"$ref": "#/components/responses/Error"},
            "422": {"$ref": "#/components/responses/Error"}
        }
    });
    if let Some(schema) = body {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    }
    if !params.is_empty() {
        o["parameters"] = Value::Array(params.iter().map(|p| json!({"$ref": format!("#/components/parameters/{p}")})).collect());
    }
    if params.contains(&"id") {
        o["responses"]["404"] = json!({"$ref": "#/components/responses/Error"});
    }
    o
}

pub fn document() -> Value {
    let timing = json!({
        "frequency": {"type": "string", "enum": ["once", "daily", "weekly", "monthly", "custom"]},
        "scheduled_time": {"type": "string", "description": "HH:MM local time; for once also a full ISO-8601 date-time"},
        "day_of_week": {"type": "string", "enum": ["monday","tuesday","wednesday","thursday","friday","saturday","sunday"]},
        "day_of_month": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 31}, {"const": "last"}]},
        "cron_expression": {"type": "string", "description": "5-field crontab (Vixie semantics) or @hourly/@daily/@weekly/@monthly/@yearly"},
        "timezone": {"type": "string", "description": "IANA time zone, default from the server's DEFAULT_TIMEZONE"}
    });
    let mut new_schedule = json!({
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 2000},
        "user_query": {"type": "string", "minLength": 1, "maxLength": 4000},
        "persona": {"type": "string", "examples": ["soc_analyst", "ciso"]}
    });
    for (k, v) in timing.as_object().into_iter().flatten() {
        new_schedule[k] = v.clone();
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Scheduled investigations API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Define a security investigation once and have it run on a schedule. Errors are {\"detail\": ...}."
        },
        "paths": {
            "/api/v1/me": {"get": op("The authenticated caller", "200", None, &[])},
            "/api/v1/schedules/validate": {"post": op("Check a query's specificity", "200", Some("ValidateRequest"), &[])},
            "/api/v1/schedules": {
                "get": op("List the caller's schedules (admins: all)", "200", None, &["limit", "offset", "status"]),
                "post": op("Create a schedule", "201", Some("NewSchedule"), &[])
            },
            "/api/v1/schedules/preview": {"post": op("Next run times of an unsaved definition", "200", Some("Timing"), &["count", "from"])},
            "/api/v1/schedules/{id}": {
                "get": op("One schedule", "200", None, &["id"]),
                "patch": op("Update a schedule (next run recomputed)", "200", Some("SchedulePatch"), &["id"]),
                "delete": op("Soft-delete a schedule", "204", None, &["id"])
            },
            "/api/v1/schedules/{id}/pause": {"post": op("Pause an active schedule", "200", None, &["id"])},
            "/api/v1/schedules/{id}/resume": {"post": op("Resume a paused schedule or re-enable a failed one", "200", None, &["id"])},
            "/api/v1/schedules/{id}/run": {"post": op("Run now", "202", None, &["id"])},
            "/api/v1/schedules/{id}/runs": {"get": op("The last 50 runs, newest first", "200", None, &["id"])},
            "/api/v1/schedules/{id}/preview": {"get": op("Next run times of a schedule", "200", None, &["id", "count", "from"])},
            "/api/v1/notifications": {"get": op("The caller's notifications, newest first", "200", None, &["limit", "offset"])}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                "offset": {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                "status": {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["ACTIVE", "PAUSED", "COMPLETED", "FAILED"]}},
                "count": {"name": "count", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
                "from": {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"}}
            },
            "responses": {
                "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["detail"], "properties": {"detail": {}}},
                "ValidateRequest": {"type": "object", "required": ["query"], "properties": {
                    "query": {"type": "string"}, "persona": {"type": "string"},
                    "frequency": {"type": "string", "enum": ["once", "daily", "weekly", "monthly", "custom"]}
                }},
                "Timing": {"type": "object", "required": ["frequency"], "properties": timing},
                "NewSchedule": {"type": "object", "required": ["name", "user_query", "persona", "frequency"], "properties": new_schedule.clone()},
                "SchedulePatch": {"type": "object", "properties": new_schedule}
            }
        }
    })
}
