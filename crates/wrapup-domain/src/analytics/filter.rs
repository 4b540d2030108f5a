//! Filters of the analytics queries, checked (`Filter::check`) and evaluated
//! (`Filter::matches`). A filter holds for a conversation when one of its segments has
//! everything the filter asks for (Genesys: segment filters test segments); every
//! conversation-level dimension (`conversationId`, `divisionId`, `originatingDirection`)
//! has the same value on every segment. The filters of a list must all hold.

use wrapup_types::genesys::{
    AnalyticsClause, AnalyticsConversation, AnalyticsFilter, AnalyticsPredicate,
};
use wrapup_types::{ErrorCode, ErrorDetail};

use super::facts::{segment_rows, SegmentRow};
use super::{list, Dimension};

/// How a predicate tests a dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// Equal to the value (ids ignoring case).
    Matches(String),
    Exists,
    NotExists,
}

/// One checked predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Predicate {
    pub dimension: Dimension,
    pub test: Test,
}

/// Predicates joined by `and` or `or`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub all: bool,
    pub predicates: Vec<Predicate>,
}

/// A checked filter: its own predicates and its clauses, joined by `and` or `or`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub all: bool,
    pub predicates: Vec<Predicate>,
    pub clauses: Vec<Group>,
}

fn joiner(kind: &str, field: &str, problems: &mut Vec<ErrorDetail>) -> bool {
    match kind {
        "and" => true,
        "or" => false,
        other => {
            problems.push(
                ErrorDetail::new(
                    ErrorCode::RequestFieldInvalid,
                    format!("{field} is \"{other}\"; a filter or clause joins its parts with and or or."),
                )
                .field(field),
            );
            true
        }
    }
}

fn unsupported(field: String, what: &str, hint: &str) -> ErrorDetail {
    ErrorDetail::new(
        ErrorCode::RequestFieldUnsupported,
        format!("{field}: {what}"),
    )
    .field(field)
    .hint(hint.to_string())
}

fn dimensions_hint() -> String {
    format!(
        "Use a dimension predicate on one of the dimensions wrapup computes: {}.",
        list(Dimension::ALL.map(Dimension::name))
    )
}

fn predicate(
    p: &AnalyticsPredicate,
    field: &str,
    problems: &mut Vec<ErrorDetail>,
) -> Option<Predicate> {
    let kind = p.kind.as_deref().unwrap_or("dimension");
    if kind != "dimension" {
        problems.push(unsupported(
            format!("{field}.type"),
            &format!("{kind} predicates are not computed by wrapup."),
            &dimensions_hint(),
        ));
        return None;
    }
    for (name, sent) in [
        ("metric", p.metric.is_some()),
        ("property", p.property.is_some()),
        ("propertyType", p.property_type.is_some()),
        ("range", p.range.is_some()),
    ] {
        if sent {
            problems.push(unsupported(
                format!("{field}.{name}"),
                &format!("{name} is not computed by wrapup."),
                "A dimension predicate takes a dimension, an operator and, for matches, a value.",
            ));
            return None;
        }
    }
    let Some(name) = p.dimension.as_deref() else {
        problems.push(
            ErrorDetail::new(
                ErrorCode::RequestFieldMissing,
                format!("{field}.dimension is required and was not sent."),
            )
            .field(format!("{field}.dimension"))
            .hint(dimensions_hint()),
        );
        return None;
    };
    let Some(dimension) = Dimension::parse(name) else {
        problems.push(unsupported(
            format!("{field}.dimension"),
            &format!("\"{name}\" is not a dimension wrapup computes."),
            &dimensions_hint(),
        ));
        return None;
    };
    let test = match (p.operator.as_deref().unwrap_or("matches"), &p.value) {
        ("matches", Some(v)) => Test::Matches(v.clone()),
        ("matches", None) => {
            problems.push(
                ErrorDetail::new(
                    ErrorCode::RequestFieldMissing,
                    format!("{field}.value is required: the matches operator compares the {name} with it."),
                )
                .field(format!("{field}.value"))
                .hint("Send a value, or use the exists or notExists operator."),
            );
            return None;
        }
        ("exists", _) => Test::Exists,
        ("notExists", _) => Test::NotExists,
        (other, _) => {
            problems.push(unsupported(
                format!("{field}.operator"),
                &format!("\"{other}\" is not an operator wrapup computes."),
                "Use matches, exists or notExists.",
            ));
            return None;
        }
    };
    Some(Predicate { dimension, test })
}

fn predicates(
    ps: &[AnalyticsPredicate],
    field: &str,
    problems: &mut Vec<ErrorDetail>,
) -> Vec<Predicate> {
    ps.iter()
        .enumerate()
        .filter_map(|(n, p)| predicate(p, &format!("{field}.predicates[{n}]"), problems))
        .collect()
}

impl Filter {
    /// Checks a filter of the body at `field` (e.g. `segmentFilters[0]`), adding every
    /// problem found to `problems`.
    pub fn check(f: &AnalyticsFilter, field: &str, problems: &mut Vec<ErrorDetail>) -> Filter {
        let all = joiner(&f.kind, &format!("{field}.type"), problems);
        let clauses = f
            .clauses
            .iter()
            .enumerate()
            .map(|(n, c): (usize, &AnalyticsClause)| {
                let at = format!("{field}.clauses[{n}]");
                Group {
                    all: joiner(&c.kind, &format!("{at}.type"), problems),
                    predicates: predicates(&c.predicates, &at, problems),
                }
            })
            .collect();
        Filter {
            all,
            predicates: predicates(&f.predicates, field, problems),
            clauses,
        }
    }

    /// The values a conversation-level `dimension` (one value on every segment, such as
    /// `divisionId`) must take for the filter to hold, when the filter says (`None`: any): an
    /// `and` filter with a `matches` predicate on it, or a clause made only of such predicates
    /// joined by `or`; an `or` filter made only of such predicates. What the store may select
    /// by before the filter runs.
    pub fn required(&self, dimension: Dimension) -> Option<Vec<String>> {
        let of_predicates = |ps: &[Predicate], all: bool| -> Option<Vec<String>> {
            let values: Vec<Option<String>> = ps
                .iter()
                .map(|p| match &p.test {
                    Test::Matches(v) if p.dimension == dimension => Some(v.to_lowercase()),
                    _ => None,
                })
                .collect();
            if all {
                // Every predicate must hold: the first constraining one bounds the values.
                let mut constraining = values.into_iter().flatten();
                let first = constraining.next()?;
                Some(if constraining.all(|v| v == first) {
                    vec![first]
                } else {
                    Vec::new()
                })
            } else if !values.is_empty() && values.iter().all(Option::is_some) {
                Some(values.into_iter().flatten().collect())
            } else {
                None
            }
        };
        let parts: Vec<Option<Vec<String>>> =
            std::iter::once(of_predicates(&self.predicates, self.all))
                .chain(
                    self.clauses
                        .iter()
                        .map(|c| of_predicates(&c.predicates, c.all)),
                )
                .collect();
        if self.all {
            // Any constraining part bounds; several intersect.
            parts
                .into_iter()
                .flatten()
                .reduce(|a, b| a.into_iter().filter(|v| b.contains(v)).collect())
        } else if self.predicates.is_empty() || self.clauses.is_empty() {
            // One kind of part only: its bound, if every part of it constrains.
            if self.clauses.is_empty() {
                parts.into_iter().next().flatten()
            } else if parts[1..].iter().all(Option::is_some) {
                Some(parts.into_iter().skip(1).flatten().flatten().collect())
            } else {
                None
            }
        } else {
            None
        }
    }

    /// Whether the filter holds for the conversation: for one of its segments.
    pub fn matches(&self, c: &AnalyticsConversation) -> bool {
        segment_rows(c).any(|row| self.holds(&row))
    }

    fn holds(&self, row: &SegmentRow<'_>) -> bool {
        let mut parts = self
            .predicates
            .iter()
            .map(|p| p.holds(row))
            .chain(self.clauses.iter().map(|c| c.holds(row)));
        if self.all {
            parts.all(|x| x)
        } else {
            // An `or` filter with nothing in it holds (as an empty `and`).
            let mut any = false;
            let mut empty = true;
            for x in parts {
                empty = false;
                any |= x;
            }
            any || empty
        }
    }
}

impl Group {
    fn holds(&self, row: &SegmentRow<'_>) -> bool {
        if self.all || self.predicates.is_empty() {
            self.predicates.iter().all(|p| p.holds(row))
        } else {
            self.predicates.iter().any(|p| p.holds(row))
        }
    }
}

impl Predicate {
    fn holds(&self, row: &SegmentRow<'_>) -> bool {
        let value = row.value(self.dimension);
        match &self.test {
            Test::Exists => value.is_some(),
            Test::NotExists => value.is_none(),
            Test::Matches(wanted) => value.is_some_and(|v| {
                if self.dimension.is_id() {
                    v.eq_ignore_ascii_case(wanted)
                } else {
                    v == *wanted
                }
            }),
        }
    }
}

/// Whether every filter holds for the conversation.
pub fn all_match(filters: &[Filter], c: &AnalyticsConversation) -> bool {
    filters.iter().all(|f| f.matches(c))
}
