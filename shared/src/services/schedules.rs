//! Schedule use cases behind the HTTP API: CRUD, lifecycle, run now, history, preview, validation.

use super::Services;
use super::input::field_errors;
use super::paging::PageRequest;
use super::views::ScheduleView;
use crate::domain::audit::REASON_MAX;
use crate::domain::specificity::{QueryValidation, validate_query, validate_query_with_lookback};
use crate::domain::timing::{
    DEFAULT_MAX_CATCHUP, DayOfMonth, DayOfWeek, Frequency, IsoDuration, TimingRule, TimingSpec,
    Window, WindowSettings,
};
use crate::domain::{
    Caller, Notification, NotifyOn, Role, Run, RunId, Schedule, ScheduleId, ScheduleStatus,
};
use crate::ports::{Page, PageStart, ScheduleFilter, WriteOutcome};
use crate::{FieldError, ServiceError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 2000;
pub const QUERY_MAX: usize = 4000;
pub use super::paging::{LIST_DEFAULT, LIST_MAX};
pub const PREVIEW_DEFAULT: usize = 10;
pub const PREVIEW_MAX: usize = 100;
/// Optimistic-concurrency retries before an edit gives up with 409.
const WRITE_RETRIES: usize = 5;

/// `POST /api/v1/schedules`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// The investigation question (also accepted as `query`); it must pass the specificity check.
    #[serde(alias = "query")]
    #[schema(min_length = 1, max_length = 4000)]
    pub user_query: String,
    /// One of the server's configured personas (`GET /api/v1/me` lists them).
    #[schema(example = "soc_analyst")]
    pub persona: String,
    pub frequency: Frequency,
    /// `HH:MM` local time; for `once` also a full ISO-8601 date-time in the future. Not used by `custom`.
    #[serde(default)]
    #[schema(example = "08:00")]
    pub scheduled_time: Option<String>,
    /// Weekly schedules only.
    #[serde(default)]
    pub day_of_week: Option<DayOfWeek>,
    /// Monthly schedules only.
    #[serde(default)]
    pub day_of_month: Option<DayOfMonth>,
    /// Custom schedules only: 5-field crontab (Vixie semantics) or `@hourly`/`@daily`/`@weekly`/`@monthly`/`@yearly`.
    #[serde(default)]
    #[schema(example = "0 8 * * 1-5")]
    pub cron_expression: Option<String>,
    /// IANA time zone; absent or empty: the server's `DEFAULT_TIMEZONE`.
    #[serde(default)]
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
    /// When completed runs notify: `every_run` (default), `findings`, `new_findings` or `failures`. Failures
    /// and `schedule-disabled` always notify.
    #[serde(default)]
    pub notify_on: Option<NotifyOn>,
    /// Fixed window length (ISO-8601, e.g. `PT24H`): each run looks back this far instead of at the time since
    /// the previous run. Empty: contiguous windows.
    #[serde(default)]
    #[schema(example = "PT24H")]
    pub lookback: Option<String>,
    /// How long after an instant its logs are complete (ISO-8601); windows end this much before the run's time.
    /// Absent: the server's `SETTLEMENT_DELAY` (default `PT0S`).
    #[serde(default)]
    #[schema(example = "PT15M")]
    pub settlement_delay: Option<String>,
    /// How far back one catch-up run after downtime reaches (ISO-8601, default `P7D`); older time is a `missed` gap.
    #[serde(default)]
    #[schema(example = "P7D")]
    pub max_catchup: Option<String>,
}

/// `PATCH /api/v1/schedules/{id}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchedulePatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Also accepted as `query`.
    #[serde(alias = "query")]
    #[schema(min_length = 1, max_length = 4000)]
    pub user_query: Option<String>,
    /// One of the server's configured personas (`GET /api/v1/me` lists them).
    pub persona: Option<String>,
    pub frequency: Option<Frequency>,
    pub scheduled_time: Option<String>,
    pub day_of_week: Option<DayOfWeek>,
    pub day_of_month: Option<DayOfMonth>,
    pub cron_expression: Option<String>,
    pub timezone: Option<String>,
    /// `every_run`, `findings`, `new_findings` or `failures`.
    pub notify_on: Option<NotifyOn>,
    /// ISO-8601; an empty string clears it (contiguous windows again).
    pub lookback: Option<String>,
    pub settlement_delay: Option<String>,
    pub max_catchup: Option<String>,
}

impl SchedulePatch {
    fn touches_timing(&self) -> bool {
        self.frequency.is_some()
            || self.scheduled_time.is_some()
            || self.day_of_week.is_some()
            || self.day_of_month.is_some()
            || self.cron_expression.is_some()
            || self.timezone.is_some()
    }
}

/// The timing fields alone, for previewing an unsaved definition.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimingInput {
    pub frequency: Frequency,
    #[serde(default)]
    pub scheduled_time: Option<String>,
    #[serde(default)]
    pub day_of_week: Option<DayOfWeek>,
    #[serde(default)]
    pub day_of_month: Option<DayOfMonth>,
    #[serde(default)]
    pub cron_expression: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    /// ISO-8601 window fields, so the preview shows each run's window.
    #[serde(default)]
    pub lookback: Option<String>,
    #[serde(default)]
    pub settlement_delay: Option<String>,
    #[serde(default)]
    pub max_catchup: Option<String>,
}

/// `POST /api/v1/schedules/validate`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// Also accepted as `user_query`.
    #[serde(alias = "user_query")]
    #[schema(min_length = 1, max_length = 4000)]
    pub query: String,
    #[serde(default)]
    pub persona: Option<String>,
    #[serde(default)]
    pub frequency: Option<Frequency>,
    /// The schedule's `lookback` (ISO-8601), if it has one: warnings then use the window it really sends and say
    /// when the query's own words contradict it.
    #[serde(default)]
    #[schema(example = "PT24H")]
    pub lookback: Option<String>,
}

/// `GET /api/v1/schedules`: a page, and optionally only one status.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub page: PageQuery,
    pub status: Option<String>,
}

/// A page of a listing without filters (runs, notifications).
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// `next_cursor` of the previous page (instead of `offset`).
    pub cursor: Option<String>,
}

/// A page of a schedule's runs, newest first.
#[derive(Debug, Clone)]
pub struct RunPage {
    pub items: Vec<Run>,
    /// Pass as `cursor` to get the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub timezone: String,
    pub schedule_description: String,
    pub runs: Vec<DateTime<Utc>>,
    /// The data window of each run in `runs` (same order), as the dispatcher will fix it.
    #[serde(default)]
    pub windows: Vec<Window>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    /// Pass as `cursor` to get the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

fn check_len(errors: &mut Vec<FieldError>, field: &str, value: &str, min: usize, max: usize) {
    let n = value.chars().count();
    if value.trim().is_empty() && min > 0 {
        errors.push(FieldError::body(
            field,
            "missing",
            format!("{field} must not be empty"),
        ));
    } else if n > max {
        errors.push(FieldError::body(
            field,
            "too_long",
            format!("{field} must be at most {max} characters (got {n})"),
        ));
    }
}

fn spec_from(
    frequency: Frequency,
    scheduled_time: Option<String>,
    day_of_week: Option<DayOfWeek>,
    day_of_month: Option<DayOfMonth>,
    cron_expression: Option<String>,
    timezone: Option<String>,
    default_tz: &str,
) -> TimingSpec {
    TimingSpec {
        frequency,
        scheduled_time,
        day_of_week,
        day_of_month,
        cron_expression,
        timezone: timezone
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| default_tz.to_owned()),
    }
}

pub(crate) fn stored_rule(schedule: &Schedule) -> Result<TimingRule, ServiceError> {
    TimingRule::parse_stored(&schedule.timing).map_err(|e| ServiceError::Invalid(field_errors(e)))
}

/// The bounds of the window fields: (field, shortest, longest).
const LOOKBACK_BOUNDS: (i64, i64) = (60, 400 * 86_400);
const SETTLEMENT_BOUNDS: (i64, i64) = (0, 7 * 86_400);
const CATCHUP_BOUNDS: (i64, i64) = (60, 400 * 86_400);

/// One ISO-8601 window field of a request: `Ok(None)` when absent or empty, the problem (naming the field) when
/// it does not parse or lies outside `bounds` (seconds).
fn duration_field(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: Option<&str>,
    (min, max): (i64, i64),
) -> Option<IsoDuration> {
    let text = value.map(str::trim).filter(|v| !v.is_empty())?;
    match IsoDuration::parse(field, text) {
        Ok(d) if (min..=max).contains(&d.duration().num_seconds()) => Some(d),
        Ok(_) => {
            errors.push(FieldError::body(
                field,
                "range",
                format!(
                    "{field} must be between {} and {}",
                    IsoDuration::seconds(min),
                    IsoDuration::seconds(max)
                ),
            ));
            None
        }
        Err(problem) => {
            errors.push(problem.into());
            None
        }
    }
}

/// The window fields of a new definition, with the server's default settlement delay.
fn window_settings(
    errors: &mut Vec<FieldError>,
    lookback: Option<&str>,
    settlement_delay: Option<&str>,
    max_catchup: Option<&str>,
    default_settlement: IsoDuration,
) -> WindowSettings {
    WindowSettings {
        lookback: duration_field(errors, "lookback", lookback, LOOKBACK_BOUNDS),
        settlement_delay: duration_field(
            errors,
            "settlement_delay",
            settlement_delay,
            SETTLEMENT_BOUNDS,
        )
        .unwrap_or(default_settlement),
        max_catchup: duration_field(errors, "max_catchup", max_catchup, CATCHUP_BOUNDS)
            .unwrap_or(DEFAULT_MAX_CATCHUP),
    }
}

/// The windows of the runs at `runs`, contiguous from `previous_end` as the dispatcher will fix them.
pub(crate) fn preview_windows(
    rule: &TimingRule,
    settings: &WindowSettings,
    runs: &[DateTime<Utc>],
    mut previous_end: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
) -> Vec<Window> {
    runs.iter()
        .map(|t| {
            let w = rule
                .scheduled_window(settings, *t, previous_end, created_at)
                .window;
            previous_end = Some(previous_end.map_or(w.end, |p| p.max(w.end)));
            w
        })
        .collect()
}

impl Services {
    fn check_definition(
        &self,
        errors: &mut Vec<FieldError>,
        name: &str,
        description: &str,
        user_query: &str,
        persona: &str,
    ) {
        check_len(errors, "name", name, 1, NAME_MAX);
        check_len(errors, "description", description, 0, DESCRIPTION_MAX);
        check_len(errors, "user_query", user_query, 1, QUERY_MAX);
        if !self.config.personas.iter().any(|p| p == persona) {
            errors.push(FieldError::body(
                "persona",
                "enum",
                format!(
                    "unknown persona {persona:?}; expected one of: {}",
                    self.config.personas.join(", ")
                ),
            ));
        }
    }

    /// Rejects a query that is not specific enough to schedule, with the validator's suggestions.
    fn check_query_specificity(
        &self,
        errors: &mut Vec<FieldError>,
        query: &str,
        frequency: Frequency,
    ) {
        if query.trim().is_empty() || query.chars().count() > QUERY_MAX {
            return; // already reported by the length check
        }
        let v = validate_query(query, Some(frequency));
        if !v.valid {
            let mut msg = format!(
                "query is not specific enough to schedule (score {}/100)",
                v.score
            );
            if !v.suggestions.is_empty() {
                msg.push_str(": ");
                msg.push_str(&v.suggestions.join(" "));
            }
            errors.push(FieldError::body("user_query", "not_specific", msg));
        }
    }

    fn default_tz(&self) -> &'static str {
        self.config.default_timezone.name()
    }

    /// Reads a schedule the caller may see; deleted and other users' schedules are "not found".
    pub(crate) async fn visible_schedule(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Schedule, ServiceError> {
        self.visible(caller, id).await
    }

    async fn visible(&self, caller: &Caller, id: &str) -> Result<Schedule, ServiceError> {
        let not_found = || ServiceError::NotFound(format!("schedule {id}"));
        let schedule = self
            .store
            .get_schedule(&ScheduleId::from(id))
            .await?
            .ok_or_else(not_found)?;
        if schedule.is_deleted() || !caller.can_see(&schedule.owner) {
            return Err(not_found());
        }
        Ok(schedule)
    }

    /// Reads, changes and conditionally writes a schedule, retrying when someone else wrote in between. `change`
    /// goes through the schedule's own transitions (which bump its version).
    async fn modify(
        &self,
        caller: &Caller,
        id: &str,
        change: impl Fn(&mut Schedule, DateTime<Utc>) -> Result<(), ServiceError>,
    ) -> Result<Schedule, ServiceError> {
        for _ in 0..WRITE_RETRIES {
            let current = self.visible(caller, id).await?;
            let mut next = current.clone();
            let now = self.clock.now();
            change(&mut next, now)?;
            if self
                .store
                .update_schedule(&next, current.version)
                .await?
                .applied()
            {
                return Ok(next);
            }
        }
        Err(ServiceError::Conflict(format!(
            "schedule {id} is being modified concurrently; try again"
        )))
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user))]
    pub async fn create_schedule(
        &self,
        caller: &Caller,
        input: NewSchedule,
    ) -> Result<ScheduleView, ServiceError> {
        let now = self.clock.now();
        let description = input.description.unwrap_or_default();
        let mut errors = Vec::new();
        self.check_definition(
            &mut errors,
            &input.name,
            &description,
            &input.user_query,
            &input.persona,
        );
        let spec = spec_from(
            input.frequency,
            input.scheduled_time,
            input.day_of_week,
            input.day_of_month,
            input.cron_expression,
            input.timezone,
            self.default_tz(),
        );
        let rule = TimingRule::parse(&spec, now)
            .map_err(|e| errors.extend(field_errors(e)))
            .ok();
        let windows = window_settings(
            &mut errors,
            input.lookback.as_deref(),
            input.settlement_delay.as_deref(),
            input.max_catchup.as_deref(),
            self.config.default_settlement_delay,
        );
        self.check_query_specificity(&mut errors, &input.user_query, input.frequency);
        let rule = match rule {
            Some(rule) if errors.is_empty() => rule,
            _ => return Err(ServiceError::Invalid(errors)),
        };
        let schedule = Schedule {
            id: ScheduleId::generate(now),
            owner: caller.user.clone(),
            name: input.name.trim().to_owned(),
            description: description.trim().to_owned(),
            user_query: input.user_query.trim().to_owned(),
            persona: input.persona,
            timing: rule.spec().clone(),
            status: ScheduleStatus::Active,
            next_run_at: rule.next_after(now),
            last_run_at: None,
            last_run_status: None,
            consecutive_failures: 0,
            disabled_reason: None,
            runs_in_flight: 0,
            created_at: now,
            updated_at: now,
            version: 1,
            pause_reason: None,
            audit: Default::default(),
            notify_on: input.notify_on.unwrap_or_default(),
            findings_summary: None,
            findings_baseline: None,
            lookback: windows.lookback,
            settlement_delay: windows.settlement_delay,
            max_catchup: windows.max_catchup,
            last_window_end: None,
            coverage: Default::default(),
            unannounced_gaps: Vec::new(),
        };
        let mut schedule = schedule;
        schedule.created(&caller.actor());
        self.store.insert_schedule(&schedule).await?;
        tracing::info!(schedule_id = %schedule.id, next_run_at = ?schedule.next_run_at, "schedule created");
        Ok(ScheduleView::of(schedule))
    }

    pub async fn list_schedules(
        &self,
        caller: &Caller,
        query: ListQuery,
    ) -> Result<Listing<ScheduleView>, ServiceError> {
        let page = PageRequest::of(&query.page, LIST_DEFAULT)?;
        let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match s.parse::<ScheduleStatus>() {
                Ok(ScheduleStatus::Deleted) | Err(_) => {
                    return Err(ServiceError::Invalid(vec![FieldError::query(
                        "status",
                        "enum",
                        format!(
                            "unknown status {s:?}; expected one of ACTIVE, PAUSED, COMPLETED, FAILED"
                        ),
                    )]));
                }
                Ok(st) => Some(st),
            },
        };
        let owner = (caller.role != Role::Admin).then(|| caller.user.clone());
        let Page { items, total } = self
            .store
            .list_schedules(&ScheduleFilter { owner, status }, page.fetch(), &page.start)
            .await?;
        let (items, next_cursor) = page.page(items, |s| (s.created_at, s.id.to_string()));
        Ok(Listing {
            items: items.into_iter().map(ScheduleView::of).collect(),
            total,
            limit: page.limit,
            offset: page.offset,
            next_cursor,
        })
    }

    pub async fn get_schedule(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<ScheduleView, ServiceError> {
        Ok(ScheduleView::of(self.visible(caller, id).await?))
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user, schedule_id = id))]
    pub async fn update_schedule(
        &self,
        caller: &Caller,
        id: &str,
        patch: SchedulePatch,
    ) -> Result<ScheduleView, ServiceError> {
        let updated = self
            .modify(caller, id, |s, now| {
                let before = s.clone();
                let p = patch.clone();
                let timing_changed = p.touches_timing();
                let query_or_frequency_changed = p.user_query.is_some() || p.frequency.is_some();
                if let Some(v) = p.name {
                    s.name = v.trim().to_owned();
                }
                if let Some(v) = p.description {
                    s.description = v.trim().to_owned();
                }
                if let Some(v) = p.user_query {
                    s.user_query = v.trim().to_owned();
                }
                if let Some(v) = p.persona {
                    s.persona = v;
                }
                if let Some(v) = p.notify_on {
                    s.notify_on = v;
                }
                let mut errors = Vec::new();
                self.check_definition(
                    &mut errors,
                    &s.name,
                    &s.description,
                    &s.user_query,
                    &s.persona,
                );
                if timing_changed {
                    let old = s.timing.clone();
                    // Creation ignores fields the frequency does not use (a form may keep them all filled in), but
                    // an edit that sends one would be a silent no-op: say so instead.
                    let frequency = p.frequency.unwrap_or(old.frequency);
                    for (field, sent, applies) in [
                        (
                            "day_of_week",
                            p.day_of_week.is_some(),
                            frequency == Frequency::Weekly,
                        ),
                        (
                            "day_of_month",
                            p.day_of_month.is_some(),
                            frequency == Frequency::Monthly,
                        ),
                        (
                            "cron_expression",
                            p.cron_expression.is_some(),
                            frequency == Frequency::Custom,
                        ),
                        (
                            "scheduled_time",
                            p.scheduled_time.is_some(),
                            frequency != Frequency::Custom,
                        ),
                    ] {
                        if sent && !applies {
                            let hint = if p.frequency.is_none() {
                                "; send frequency too, to change it"
                            } else {
                                ""
                            };
                            errors.push(FieldError::body(
                                field,
                                "not_applicable",
                                format!(
                                    "{field} does not apply to a {} schedule{hint}",
                                    frequency.as_str()
                                ),
                            ));
                        }
                    }
                    // A frequency change starts from a clean slate: fields of the old frequency do not carry over.
                    let frequency_changed = p.frequency.is_some_and(|f| f != old.frequency);
                    fn keep<T>(changed: bool, new: Option<T>, old: Option<T>) -> Option<T> {
                        if changed { new } else { new.or(old) }
                    }
                    let spec = spec_from(
                        p.frequency.unwrap_or(old.frequency),
                        keep(frequency_changed, p.scheduled_time, old.scheduled_time),
                        keep(frequency_changed, p.day_of_week, old.day_of_week),
                        keep(frequency_changed, p.day_of_month, old.day_of_month),
                        keep(frequency_changed, p.cron_expression, old.cron_expression),
                        p.timezone.or(Some(old.timezone)),
                        self.default_tz(),
                    );
                    match TimingRule::parse(&spec, now) {
                        Ok(rule) => {
                            s.timing = rule.spec().clone();
                            // The definition changed: the next run follows the new rule from now.
                            if s.status == ScheduleStatus::Active {
                                s.next_run_at = rule.next_after(now);
                            }
                        }
                        Err(e) => errors.extend(field_errors(e)),
                    }
                }
                if let Some(v) = p.lookback.as_deref() {
                    s.lookback = duration_field(&mut errors, "lookback", Some(v), LOOKBACK_BOUNDS);
                }
                if let Some(v) = p.settlement_delay.as_deref() {
                    s.settlement_delay =
                        duration_field(&mut errors, "settlement_delay", Some(v), SETTLEMENT_BOUNDS)
                            .unwrap_or(self.config.default_settlement_delay);
                }
                if let Some(v) = p.max_catchup.as_deref() {
                    s.max_catchup =
                        duration_field(&mut errors, "max_catchup", Some(v), CATCHUP_BOUNDS)
                            .unwrap_or(DEFAULT_MAX_CATCHUP);
                }
                if query_or_frequency_changed {
                    self.check_query_specificity(&mut errors, &s.user_query, s.timing.frequency);
                }
                if errors.is_empty() {
                    s.edited(&before, &caller.actor(), now);
                    Ok(())
                } else {
                    Err(ServiceError::Invalid(errors))
                }
            })
            .await?;
        tracing::info!(next_run_at = ?updated.next_run_at, "schedule updated");
        Ok(ScheduleView::of(updated))
    }

    pub async fn pause_schedule(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<ScheduleView, ServiceError> {
        self.pause_schedule_because(caller, id, None).await
    }

    /// Pauses an active schedule, with the reason its caller gave (at most [`REASON_MAX`] characters).
    pub async fn pause_schedule_because(
        &self,
        caller: &Caller,
        id: &str,
        body: Option<ReasonBody>,
    ) -> Result<ScheduleView, ServiceError> {
        let reason = check_reason(body)?;
        let s = self
            .modify(caller, id, |s, now| {
                Ok(s.pause(now, &caller.actor(), reason.clone())?)
            })
            .await?;
        tracing::info!(schedule_id = id, "schedule paused");
        Ok(ScheduleView::of(s))
    }

    /// Resumes a paused schedule or re-enables a failed one; the next run is computed from now.
    pub async fn resume_schedule(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<ScheduleView, ServiceError> {
        self.resume_schedule_because(caller, id, None).await
    }

    /// [`Services::resume_schedule`] with the reason its caller gave (at most [`REASON_MAX`] characters).
    pub async fn resume_schedule_because(
        &self,
        caller: &Caller,
        id: &str,
        body: Option<ReasonBody>,
    ) -> Result<ScheduleView, ServiceError> {
        let reason = check_reason(body)?;
        let s = self
            .modify(caller, id, |s, now| {
                let next = stored_rule(s)?.next_after(now);
                Ok(s.resume(next, now, &caller.actor(), reason.clone())?)
            })
            .await?;
        tracing::info!(schedule_id = id, next_run_at = ?s.next_run_at, "schedule resumed");
        Ok(ScheduleView::of(s))
    }

    /// Soft delete: the schedule is kept for audit, never runs again, and is hidden from every read.
    pub async fn delete_schedule(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        self.modify(caller, id, |s, now| {
            s.delete(now, &caller.actor());
            Ok(())
        })
        .await?;
        tracing::info!(schedule_id = id, "schedule deleted");
        Ok(())
    }

    /// Creates a manual run and starts it at once through the dispatcher's start path. Allowed whatever runs are
    /// in flight; if the start cannot complete now, the dispatcher's recovery picks the pending run up later.
    #[tracing::instrument(skip_all, fields(user = %caller.user, schedule_id = id))]
    pub async fn run_now(&self, caller: &Caller, id: &str) -> Result<Run, ServiceError> {
        for _ in 0..WRITE_RETRIES {
            let current = self.visible(caller, id).await?;
            let now = self.clock.now();
            let mut schedule = current.clone();
            let rule = stored_rule(&current)?;
            let run = schedule.run_now(&rule, now, now + self.lease(), &caller.actor());
            if self
                .store
                .create_run(&schedule, current.version, &run)
                .await?
                == WriteOutcome::Applied
            {
                tracing::info!(run_id = %run.run_id, "manual run created");
                return Ok(self.start_run(run).await);
            }
        }
        Err(ServiceError::Conflict(format!(
            "schedule {id} is being modified concurrently; try again"
        )))
    }

    /// A schedule's runs, newest first; by default its whole kept history (the retention count, at most
    /// [`LIST_MAX`]) in one page.
    pub async fn list_runs(
        &self,
        caller: &Caller,
        id: &str,
        query: PageQuery,
    ) -> Result<RunPage, ServiceError> {
        let schedule = self.visible(caller, id).await?;
        let default = self.config.run_retention.count().min(LIST_MAX);
        let page = PageRequest::of(&query, default)?;
        let after = match &page.start {
            PageStart::After(after) => Some(after),
            PageStart::Offset(0) => None,
            PageStart::Offset(_) => {
                return Err(ServiceError::Invalid(vec![FieldError::query(
                    "offset",
                    "not_supported",
                    "runs page by cursor: pass next_cursor from the previous page",
                )]));
            }
        };
        let items = self
            .store
            .list_runs(&schedule.id, page.fetch(), after)
            .await?;
        let (items, next_cursor) = page.page(items, |r| (r.scheduled_for, r.run_id.to_string()));
        Ok(RunPage { items, next_cursor })
    }

    /// One run of a visible schedule, with its findings; another user's run is not found, as their schedule is not.
    pub async fn get_run(
        &self,
        caller: &Caller,
        id: &str,
        run_id: &str,
    ) -> Result<Run, ServiceError> {
        let schedule = self.visible(caller, id).await?;
        self.store
            .get_run(&schedule.id, &RunId::from(run_id))
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("run {run_id} not found")))
    }

    pub async fn preview_schedule(
        &self,
        caller: &Caller,
        id: &str,
        count: Option<usize>,
        from: Option<DateTime<Utc>>,
    ) -> Result<Preview, ServiceError> {
        let schedule = self.visible(caller, id).await?;
        let rule = stored_rule(&schedule)?;
        let count = preview_count(count)?;
        let from = from.unwrap_or_else(|| self.clock.now());
        let runs = rule.upcoming(from, count);
        let windows = preview_windows(
            &rule,
            &schedule.window_settings(),
            &runs,
            schedule.last_window_end,
            schedule.created_at,
        );
        Ok(Preview {
            timezone: schedule.timing.timezone.clone(),
            schedule_description: rule.describe(),
            runs,
            windows,
        })
    }

    pub fn preview_definition(
        &self,
        input: TimingInput,
        count: Option<usize>,
        from: Option<DateTime<Utc>>,
    ) -> Result<Preview, ServiceError> {
        let count = preview_count(count)?;
        let now = self.clock.now();
        let from = from.unwrap_or(now);
        let spec = spec_from(
            input.frequency,
            input.scheduled_time,
            input.day_of_week,
            input.day_of_month,
            input.cron_expression,
            input.timezone,
            self.default_tz(),
        );
        let mut errors = Vec::new();
        let settings = window_settings(
            &mut errors,
            input.lookback.as_deref(),
            input.settlement_delay.as_deref(),
            input.max_catchup.as_deref(),
            self.config.default_settlement_delay,
        );
        let rule = TimingRule::parse(&spec, now)
            .map_err(|e| errors.extend(field_errors(e)))
            .ok();
        let rule = match rule {
            Some(rule) if errors.is_empty() => rule,
            _ => return Err(ServiceError::Invalid(errors)),
        };
        let runs = rule.upcoming(from, count);
        let windows = preview_windows(&rule, &settings, &runs, None, now);
        Ok(Preview {
            timezone: rule.spec().timezone.clone(),
            schedule_description: rule.describe(),
            runs,
            windows,
        })
    }

    pub fn validate(&self, request: ValidateRequest) -> Result<QueryValidation, ServiceError> {
        let mut errors = Vec::new();
        check_len(&mut errors, "query", &request.query, 1, QUERY_MAX);
        if let Some(p) = &request.persona
            && !self.config.personas.iter().any(|x| x == p)
        {
            errors.push(FieldError::body(
                "persona",
                "enum",
                format!(
                    "unknown persona {p:?}; expected one of: {}",
                    self.config.personas.join(", ")
                ),
            ));
        }
        let lookback = duration_field(
            &mut errors,
            "lookback",
            request.lookback.as_deref(),
            LOOKBACK_BOUNDS,
        );
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        Ok(validate_query_with_lookback(
            &request.query,
            request.frequency,
            lookback.map(|l| l.duration().num_seconds().unsigned_abs()),
        ))
    }

    pub async fn list_notifications(
        &self,
        caller: &Caller,
        query: PageQuery,
    ) -> Result<Listing<Notification>, ServiceError> {
        let page = PageRequest::of(&query, LIST_DEFAULT)?;
        let owner = (caller.role != Role::Admin).then_some(caller.user.as_str());
        let Page { items, total } = self
            .store
            .list_notifications(owner, page.fetch(), &page.start)
            .await?;
        let (items, next_cursor) = page.page(items, |n| (n.created_at, n.id.to_string()));
        Ok(Listing {
            items,
            total,
            limit: page.limit,
            offset: page.offset,
            next_cursor,
        })
    }
}

/// The optional body of `pause` and `resume`: why.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why the schedule is paused or resumed (kept in its history; shown next to `PAUSED`).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// The trimmed reason, if any; 422 naming `reason` when it is longer than [`REASON_MAX`] as sent (the documented
/// `maxLength` is of the string sent, so padding does not get a longer one through).
fn check_reason(body: Option<ReasonBody>) -> Result<Option<String>, ServiceError> {
    let Some(reason) = body.and_then(|b| b.reason) else {
        return Ok(None);
    };
    let n = reason.chars().count();
    let reason = reason.trim();
    if n > REASON_MAX {
        return Err(ServiceError::Invalid(vec![FieldError::body(
            "reason",
            "too_long",
            format!("reason must be at most {REASON_MAX} characters (got {n})"),
        )]));
    }
    Ok((!reason.is_empty()).then(|| reason.to_owned()))
}

fn preview_count(count: Option<usize>) -> Result<usize, ServiceError> {
    let count = count.unwrap_or(PREVIEW_DEFAULT);
    if !(1..=PREVIEW_MAX).contains(&count) {
        return Err(ServiceError::Invalid(vec![FieldError::query(
            "count",
            "range",
            format!("count must be between 1 and {PREVIEW_MAX}"),
        )]));
    }
    Ok(count)
}
