//! Where the domain's input problems sit in a request: a timing problem names a field of the body, and becomes the
//! FastAPI-style field error (`loc: ["body", field]`, `type: "missing" | "value_error"`) the clients know.

use crate::FieldError;
use crate::domain::timing::{InputProblem, ProblemKind};

impl From<InputProblem> for FieldError {
    fn from(problem: InputProblem) -> Self {
        let kind = match problem.kind {
            ProblemKind::Missing => "missing",
            ProblemKind::Invalid => "value_error",
        };
        FieldError::body(problem.field, kind, problem.message)
    }
}

/// The field errors of a timing definition that did not parse, in the order the domain found them.
pub(crate) fn field_errors(problems: Vec<InputProblem>) -> Vec<FieldError> {
    problems.into_iter().map(FieldError::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::timing::{Frequency, TimingRule, TimingSpec};

    #[test]
    fn a_cron_problem_is_a_body_field_error_with_the_field_prefix() {
        let spec = TimingSpec {
            frequency: Frequency::Custom,
            scheduled_time: None,
            day_of_week: None,
            day_of_month: None,
            cron_expression: Some("61 * * * *".to_owned()),
            timezone: "UTC".to_owned(),
        };
        let problems = TimingRule::parse(&spec, chrono::Utc::now()).unwrap_err();
        let errors = field_errors(problems);
        assert_eq!(errors[0].loc, ["body", "cron_expression"]);
        assert_eq!(errors[0].kind, "value_error");
        assert_eq!(
            errors[0].to_string(),
            "cron_expression: minute field '61' is out of range 0-59"
        );
    }

    #[test]
    fn a_missing_field_keeps_the_missing_kind() {
        let spec = TimingSpec {
            frequency: Frequency::Daily,
            scheduled_time: None,
            day_of_week: None,
            day_of_month: None,
            cron_expression: None,
            timezone: "UTC".to_owned(),
        };
        let errors = field_errors(TimingRule::parse(&spec, chrono::Utc::now()).unwrap_err());
        assert_eq!(errors[0].loc, ["body", "scheduled_time"]);
        assert_eq!(errors[0].kind, "missing");
    }
}
