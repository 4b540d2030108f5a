//! The checks of the two query bodies: every problem at once, each naming its field, and a
//! metric, dimension, operator, `groupBy`, granularity or field wrapup does not compute
//! refused (`request.field.unsupported`) with what it does compute, never answered empty.

use wrapup_types::genesys::{ConversationAggregationQuery, ConversationQuery};
use wrapup_types::{ErrorCode, ErrorDetail};

use super::filter::Filter;
use super::interval::{parse_duration, parse_interval, Buckets, Interval};
use super::{list, Dimension, Metric};

/// The largest `pageSize`.
pub const MAX_PAGE_SIZE: i64 = 100;
/// The page size when `paging` does not say.
pub const DEFAULT_PAGE_SIZE: i64 = 25;
/// Names of UTC besides the IANA ones (`UTC`, `Etc/UTC`, …), accepted as `timeZone`.
const UTC_NAMES: [&str; 1] = ["Z"];

/// The query's `timeZone`: an IANA name (`Europe/Paris`, `America/New_York`), UTC when left
/// out. The zone database is bundled with wrapup.
fn time_zone(name: Option<&str>) -> Result<jiff::tz::TimeZone, String> {
    match name {
        None => Ok(jiff::tz::TimeZone::UTC),
        Some(z) if UTC_NAMES.contains(&z) => Ok(jiff::tz::TimeZone::UTC),
        Some(z) => jiff::tz::TimeZone::get(z)
            .map_err(|_| format!("timeZone \"{z}\" is not an IANA time zone name.")),
    }
}

/// A checked `ConversationQuery`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailsQuery {
    pub interval: Interval,
    /// Conversation filters and segment filters: all must hold.
    pub filters: Vec<Filter>,
    pub newest_first: bool,
    pub page_size: u32,
    /// From 1.
    pub page_number: u32,
}

/// The divisions the filters allow, when they name some (`divisionId` `matches`): every
/// filter must hold, so their sets intersect. A value that is not a UUID names no division.
fn required_divisions<'a>(filters: impl Iterator<Item = &'a Filter>) -> Option<Vec<uuid::Uuid>> {
    filters
        .filter_map(|f| f.required(Dimension::DivisionId))
        .map(|values| {
            values
                .iter()
                .filter_map(|v| uuid::Uuid::parse_str(v).ok())
                .collect::<Vec<_>>()
        })
        .reduce(|a, b| a.into_iter().filter(|d| b.contains(d)).collect())
}

impl DetailsQuery {
    /// The divisions the filters allow, when they name some: the store need read no other.
    pub fn divisions(&self) -> Option<Vec<uuid::Uuid>> {
        required_divisions(self.filters.iter())
    }

    /// How many matching conversations come before the page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page_number - 1) * u64::from(self.page_size)
    }
}

/// A checked `ConversationAggregationQuery`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateQuery {
    pub buckets: Buckets,
    pub group_by: Vec<Dimension>,
    pub filter: Option<Filter>,
    pub metrics: Vec<Metric>,
}

fn invalid(field: &str, message: String, hint: &str) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::RequestFieldInvalid, message)
        .field(field)
        .hint(hint.to_string())
}

fn unsupported(field: &str, message: String, hint: String) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::RequestFieldUnsupported, message)
        .field(field)
        .hint(hint)
}

fn not_computed(field: &str, problems: &mut Vec<ErrorDetail>) {
    problems.push(unsupported(
        field,
        format!("{field} is a field of the Genesys query that wrapup does not compute."),
        "Leave it out (docs/genesys.md#analytics lists what wrapup computes).".to_string(),
    ));
}

fn interval(raw: &str, problems: &mut Vec<ErrorDetail>) -> Interval {
    parse_interval(raw).unwrap_or_else(|message| {
        problems.push(invalid(
            "interval",
            message,
            "Send start/end as ISO-8601 instants, e.g. 2026-12-01T00:00:00Z/2026-12-02T00:00:00Z (or start/P1D).",
        ));
        Interval { start_ms: 0, end_ms: 1 }
    })
}

impl DetailsQuery {
    pub fn check(q: &ConversationQuery) -> Result<DetailsQuery, Vec<ErrorDetail>> {
        let mut problems = Vec::new();
        let interval = interval(&q.interval, &mut problems);
        for (name, sent) in [
            ("evaluationFilters", q.evaluation_filters.is_some()),
            ("surveyFilters", q.survey_filters.is_some()),
            ("resolutionFilters", q.resolution_filters.is_some()),
            ("aggregations", q.aggregations.is_some()),
        ] {
            if sent {
                not_computed(name, &mut problems);
            }
        }
        let mut filters: Vec<Filter> = q
            .conversation_filters
            .iter()
            .enumerate()
            .map(|(n, f)| Filter::check(f, &format!("conversationFilters[{n}]"), &mut problems))
            .collect();
        filters.extend(
            q.segment_filters
                .iter()
                .enumerate()
                .map(|(n, f)| Filter::check(f, &format!("segmentFilters[{n}]"), &mut problems)),
        );
        let newest_first = match q.order.as_deref() {
            None | Some("asc") | Some("unordered") => false,
            Some("desc") => true,
            Some(other) => {
                problems.push(invalid(
                    "order",
                    format!("order is \"{other}\"."),
                    "Use asc, desc or unordered.",
                ));
                false
            }
        };
        match q.order_by.as_deref() {
            None | Some("conversationStart") => {}
            Some(other) => problems.push(unsupported(
                "orderBy",
                format!("wrapup does not order by \"{other}\"."),
                "Use conversationStart (the default), with order asc or desc.".to_string(),
            )),
        }
        let paging = q.paging.clone().unwrap_or_default();
        let page_size = paging.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            problems.push(invalid(
                "paging.pageSize",
                format!("paging.pageSize is {page_size}; it must be 1 to {MAX_PAGE_SIZE}."),
                "Ask for at most 100 conversations a page and page on with pageNumber.",
            ));
        }
        let page_number = paging.page_number.unwrap_or(1);
        if !(1..=1_000_000).contains(&page_number) {
            problems.push(invalid(
                "paging.pageNumber",
                format!(
                    "paging.pageNumber is {page_number}; pages are numbered from 1 (to 1000000)."
                ),
                "Start at pageNumber 1.",
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(DetailsQuery {
            interval,
            filters,
            newest_first,
            page_size: page_size as u32,
            page_number: page_number as u32,
        })
    }
}

impl AggregateQuery {
    /// The divisions the filter allows, when it names some: the store need read no other.
    pub fn divisions(&self) -> Option<Vec<uuid::Uuid>> {
        required_divisions(self.filter.iter())
    }

    pub fn check(q: &ConversationAggregationQuery) -> Result<AggregateQuery, Vec<ErrorDetail>> {
        let mut problems = Vec::new();
        let interval = interval(&q.interval, &mut problems);
        for (name, sent) in [
            ("views", q.views.is_some()),
            (
                "alternateTimeDimension",
                q.alternate_time_dimension.is_some(),
            ),
            ("sortMetric", q.sort_metric.is_some()),
            ("limit", q.limit.is_some()),
        ] {
            if sent {
                not_computed(name, &mut problems);
            }
        }
        match q.query_type.as_deref() {
            None | Some("groupBy") => {}
            Some(other) => problems.push(unsupported(
                "queryType",
                format!("queryType \"{other}\" is not computed by wrapup."),
                "Leave it out or send groupBy; sort and cut the results yourself.".to_string(),
            )),
        }
        let zone = time_zone(q.time_zone.as_deref()).unwrap_or_else(|message| {
            problems.push(invalid(
                "timeZone",
                message,
                "Send an IANA name such as Europe/Paris, America/New_York or UTC, or leave it out for UTC.",
            ));
            jiff::tz::TimeZone::UTC
        });
        let granularity = q.granularity.as_deref().and_then(|g| match parse_duration(g) {
            Ok(_) => Some(g),
            Err(message) => {
                problems.push(invalid(
                    "granularity",
                    message,
                    "Send an ISO-8601 duration such as PT15M, PT1H, P1D or P7D, or leave it out for one bucket.",
                ));
                None
            }
        });
        let group_by: Vec<Dimension> = q
            .group_by
            .iter()
            .enumerate()
            .filter_map(|(n, name)| {
                let found = Dimension::parse(name).filter(|d| Dimension::GROUPABLE.contains(d));
                if found.is_none() {
                    problems.push(unsupported(
                        &format!("groupBy[{n}]"),
                        format!("wrapup does not group by \"{name}\"."),
                        format!(
                            "Group by {}.",
                            list(Dimension::GROUPABLE.map(Dimension::name))
                        ),
                    ));
                }
                found
            })
            .collect();
        if q.metrics.is_empty() {
            problems.push(
                ErrorDetail::new(
                    ErrorCode::RequestFieldMissing,
                    "metrics is empty: name at least one metric.",
                )
                .field("metrics")
                .hint(format!(
                    "wrapup computes {}.",
                    list(Metric::ALL.map(Metric::name))
                )),
            );
        }
        let metrics: Vec<Metric> = q
            .metrics
            .iter()
            .enumerate()
            .filter_map(|(n, name)| {
                let found = Metric::parse(name);
                if found.is_none() {
                    problems.push(unsupported(
                        &format!("metrics[{n}]"),
                        format!("\"{name}\" is not a metric wrapup computes."),
                        format!("Ask for {}.", list(Metric::ALL.map(Metric::name))),
                    ));
                }
                found
            })
            .collect();
        let filter = q
            .filter
            .as_ref()
            .map(|f| Filter::check(f, "filter", &mut problems));
        let buckets = match problems.is_empty() {
            true => Buckets::new(interval, granularity, &zone).map_err(|message| {
                vec![invalid(
                    "granularity",
                    message,
                    "Choose a granularity of at least PT1M that cuts the interval into at most 1000 buckets.",
                )]
            })?,
            false => return Err(problems),
        };
        Ok(AggregateQuery {
            buckets,
            group_by,
            filter,
            metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use wrapup_types::genesys::{AnalyticsFilter, AnalyticsPredicate, PagingSpec};

    fn details(json: serde_json::Value) -> Result<DetailsQuery, Vec<ErrorDetail>> {
        DetailsQuery::check(&serde_json::from_value(json).unwrap())
    }

    fn aggregate(json: serde_json::Value) -> Result<AggregateQuery, Vec<ErrorDetail>> {
        AggregateQuery::check(&serde_json::from_value(json).unwrap())
    }

    const DAY: &str = "2026-12-01T00:00:00Z/2026-12-02T00:00:00Z";
    const MEDIA: [&str; 3] = ["voice", "email", "message"];

    #[test]
    fn a_details_query_with_defaults() {
        let q = details(serde_json::json!({"interval": DAY})).unwrap();
        assert_eq!((q.page_size, q.page_number, q.newest_first), (25, 1, false));
        let q = details(serde_json::json!({"interval": DAY, "order": "desc",
            "paging": {"pageSize": 100, "pageNumber": 3},
            "segmentFilters": [{"type": "and", "predicates": [{"dimension": "wrapUpCode", "value": "x"}]}]}))
        .unwrap();
        assert_eq!(
            (q.offset(), q.newest_first, q.filters.len()),
            (200, true, 1)
        );
    }

    #[test]
    fn what_wrapup_does_not_compute_is_named() {
        let problems = details(serde_json::json!({"interval": DAY,
            "segmentFilters": [{"type": "or", "predicates": [
                {"dimension": "ani", "value": "x"},
                {"dimension": "queueId", "operator": "between"},
                {"type": "metric", "metric": "tAcw"}]}],
            "surveyFilters": [], "paging": {"pageSize": 101}}))
        .unwrap_err();
        let fields: Vec<_> = problems
            .iter()
            .map(|p| p.field_name.clone().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "surveyFilters",
                "segmentFilters[0].predicates[0].dimension",
                "segmentFilters[0].predicates[1].operator",
                "segmentFilters[0].predicates[2].type",
                "paging.pageSize"
            ]
        );
        assert!(problems[1].hint.as_deref().unwrap().contains("wrapUpCode"));
        assert_eq!(problems[1].error_code, ErrorCode::RequestFieldUnsupported);
        let problems = aggregate(
            serde_json::json!({"interval": DAY, "metrics": ["tAcw", "nBlindTransferred"],
            "groupBy": ["wrapUpCode", "ani"], "timeZone": "Europe/Nowhere", "granularity": "P1M"}),
        )
        .unwrap_err();
        let fields: Vec<_> = problems
            .iter()
            .map(|p| p.field_name.clone().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["timeZone", "granularity", "groupBy[1]", "metrics[1]"]
        );
        assert!(problems[3].hint.as_deref().unwrap().contains("tAcw"));
    }

    #[test]
    fn an_aggregate_query() {
        let q = aggregate(
            serde_json::json!({"interval": DAY, "metrics": ["tAcw", "nConnected"],
            "groupBy": ["wrapUpCode", "queueId"], "granularity": "PT1H", "timeZone": "UTC"}),
        )
        .unwrap();
        assert_eq!(q.metrics, [Metric::TAcw, Metric::NConnected]);
        assert_eq!(q.buckets.len(), 24);
        assert!(aggregate(
            serde_json::json!({"interval": DAY, "metrics": ["tAcw"], "granularity": "PT1S"})
        )
        .is_err());
        assert!(aggregate(serde_json::json!({"interval": DAY, "metrics": []})).is_err());
    }

    #[test]
    fn the_divisions_a_filter_requires() {
        let (a, b) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        let divisions = |filters: serde_json::Value| {
            details(serde_json::json!({"interval": DAY, "conversationFilters": filters}))
                .unwrap()
                .divisions()
        };
        let is = |d: uuid::Uuid| serde_json::json!({"dimension": "divisionId", "value": d.to_string().to_uppercase()});
        let other = serde_json::json!({"dimension": "mediaType", "value": "voice"});
        assert_eq!(
            divisions(serde_json::json!([{"type": "and", "predicates": [is(a), other]}])),
            Some(vec![a])
        );
        assert_eq!(
            divisions(serde_json::json!([{"type": "or", "predicates": [is(a), is(b)]}])),
            Some(vec![a, b])
        );
        assert_eq!(
            divisions(serde_json::json!([{"type": "or", "predicates": [is(a), other]}])),
            None
        );
        assert_eq!(
            divisions(serde_json::json!([{"type": "and", "predicates": [is(a), is(b)]}])),
            Some(vec![])
        );
        assert_eq!(
            divisions(
                serde_json::json!([{"type": "and", "clauses": [{"type": "or", "predicates": [is(a), is(b)]}]},
                {"type": "and", "predicates": [is(b)]}])
            ),
            Some(vec![b])
        );
        assert_eq!(
            divisions(serde_json::json!([{"type": "and", "predicates": [other]}])),
            None
        );
        assert_eq!(
            divisions(serde_json::json!([{"type": "or", "clauses": [
            {"type": "and", "predicates": [is(a)]}, {"type": "and", "predicates": [other]}]}])),
            None
        );
        assert_eq!(
            divisions(
                serde_json::json!([{"type": "and", "predicates": [{"dimension": "divisionId", "value": "x"}]}])
            ),
            Some(vec![])
        );
    }

    proptest! {
        /// Narrowing to the divisions a filter requires never drops a conversation it matches:
        /// a conversation in division `d` that the filter matches has `d` among them.
        #[test]
        fn required_divisions_keep_every_match(picks in prop::collection::vec((0u8..3, any::<bool>(), 0u8..3), 1..5), all in any::<bool>(), at in 0u8..3) {
            use crate::analytics::facts::conversation;
            let division = |n: u8| uuid::Uuid::from_u128(u128::from(n) + 1);
            let predicates: Vec<serde_json::Value> = picks
                .iter()
                .map(|(n, on_division, media)| if *on_division {
                    serde_json::json!({"dimension": "divisionId", "value": division(*n).to_string()})
                } else {
                    serde_json::json!({"dimension": "mediaType", "value": MEDIA[*media as usize]})
                })
                .collect();
            let q = details(serde_json::json!({"interval": DAY, "conversationFilters": [
                {"type": if all { "and" } else { "or" }, "predicates": predicates}]})).unwrap();
            let mut i: wrapup_types::Interaction = serde_json::from_value(serde_json::json!({
                "id": uuid::Uuid::nil(), "divisionId": division(at), "channel": "voice", "state": "queued",
                "finalized": false, "createdAt": "2026-12-01T00:00:00.000Z", "version": 1})).unwrap();
            i.division_id = division(at);
            if q.filters[0].matches(&conversation(&i, None)) {
                if let Some(allowed) = q.divisions() {
                    prop_assert!(allowed.contains(&division(at)));
                }
            }
        }

        /// A page size is accepted exactly from 1 to 100.
        #[test]
        fn page_sizes(size in -5i64..300) {
            let q = ConversationQuery {
                interval: DAY.into(),
                paging: Some(PagingSpec { page_size: Some(size), page_number: None }),
                ..ConversationQuery::default()
            };
            prop_assert_eq!(DetailsQuery::check(&q).is_ok(), (1..=100).contains(&size));
        }

        /// A predicate is accepted exactly when its dimension is one wrapup computes and its
        /// operator one it knows; a refusal names the field and lists what is supported.
        #[test]
        fn predicates(dimension in "[a-zA-Z]{0,14}", operator in prop::sample::select(vec!["matches", "exists", "notExists", "between", ""])) {
            let pick = Dimension::ALL[dimension.len() % Dimension::ALL.len()].name().to_string();
            for name in [dimension.clone(), pick] {
                let q = ConversationQuery {
                    interval: DAY.into(),
                    segment_filters: vec![AnalyticsFilter {
                        kind: "and".into(),
                        clauses: vec![],
                        predicates: vec![AnalyticsPredicate {
                            dimension: Some(name.clone()),
                            operator: Some(operator.to_string()),
                            value: Some("v".into()),
                            ..AnalyticsPredicate::default()
                        }],
                    }],
                    ..ConversationQuery::default()
                };
                let ok = Dimension::parse(&name).is_some() && ["matches", "exists", "notExists"].contains(&operator);
                match DetailsQuery::check(&q) {
                    Ok(_) => prop_assert!(ok),
                    Err(problems) => {
                        prop_assert!(!ok);
                        prop_assert_eq!(problems.len(), 1);
                        prop_assert!(problems[0].field_name.as_deref().unwrap().starts_with("segmentFilters[0].predicates[0]."));
                        prop_assert!(problems[0].hint.is_some());
                    }
                }
            }
        }
    }
}
