//! The analytics queries of the Genesys dialect (docs/genesys.md#analytics): the bodies of
//! `POST /api/v2/analytics/conversations/details/query` (`ConversationQuery`) and
//! `…/aggregates/query` (`ConversationAggregationQuery`), and their answers, field for
//! field as the SDKs' models spell them. Fields of the Genesys models that wrapup does not
//! compute are accepted by name (so the answer can name them) and refused by the domain
//! (`wrapup_domain::analytics`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A `ConversationQuery`: which conversations, filtered, ordered and paged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConversationQuery {
    /// `start/end` (ISO-8601 instants) or `start/duration`: the conversations that started
    /// in it, start included, end excluded.
    pub interval: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversation_filters: Vec<AnalyticsFilter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segment_filters: Vec<AnalyticsFilter>,
    /// `asc` (the default), `desc` or `unordered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// `conversationStart` (the default) or `conversationEnd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<PagingSpec>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub evaluation_filters: Option<serde_json::Value>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub survey_filters: Option<serde_json::Value>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub resolution_filters: Option<serde_json::Value>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub aggregations: Option<serde_json::Value>,
}

/// A `PagingSpec`: `pageSize` 1 to 100 (default 25), `pageNumber` from 1 (default 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PagingSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_number: Option<i64>,
}

/// A filter of any of the queries (`ConversationDetailQueryFilter`,
/// `SegmentDetailQueryFilter`, `ConversationAggregateQueryFilter`): its clauses and
/// predicates joined by `type` (`and` or `or`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalyticsFilter {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clauses: Vec<AnalyticsClause>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predicates: Vec<AnalyticsPredicate>,
}

/// A clause: predicates joined by `type` (`and` or `or`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalyticsClause {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub predicates: Vec<AnalyticsPredicate>,
}

/// A predicate: `type` `dimension` (the default), a `dimension`, an `operator` (`matches`,
/// the default, `exists`, `notExists`) and, for `matches`, a `value`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalyticsPredicate {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_type: Option<String>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub range: Option<serde_json::Value>,
}

/// A `ConversationAggregationQuery`: metrics over an interval, by group and by bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConversationAggregationQuery {
    /// As in `ConversationQuery`.
    pub interval: String,
    /// An ISO-8601 duration (`PT15M`, `PT1H`, `P1D`, `P7D`, …); the whole interval when
    /// left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<String>,
    /// The time zone of day and week buckets: an IANA name (`Europe/Paris`); UTC when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<AnalyticsFilter>,
    pub metrics: Vec<String>,
    /// Accepted; every dimension wrapup groups by has one value per conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flatten_multivalued_dimensions: Option<bool>,
    /// `groupBy` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_type: Option<String>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub views: Option<serde_json::Value>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_time_dimension: Option<String>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub sort_metric: Option<serde_json::Value>,
    /// Not computed by wrapup: refused when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `AnalyticsConversationQueryResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsConversationQueryResponse {
    /// The page's conversations; left out when there are none (as Genesys does).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversations: Vec<AnalyticsConversation>,
    /// How many conversations match, on every page.
    pub total_hits: u64,
}

/// `AnalyticsConversation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsConversation {
    pub conversation_id: Uuid,
    /// The interaction's creation.
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub conversation_start: OffsetDateTime,
    /// Its close; left out while it is open.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub conversation_end: Option<OffsetDateTime>,
    pub division_ids: Vec<Uuid>,
    /// `inbound`: every wrapup interaction is routed in.
    pub originating_direction: String,
    pub participants: Vec<AnalyticsParticipant>,
}

/// `AnalyticsParticipant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsParticipant {
    /// The participant's id, as in `GET /api/v2/conversations/{id}`.
    pub participant_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_name: Option<String>,
    /// `customer` or `agent`.
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    pub sessions: Vec<AnalyticsSession>,
}

/// `AnalyticsSession`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsSession {
    /// The participant's communication id.
    pub session_id: Uuid,
    /// `voice`, `callback`, `email` or `message`.
    pub media_type: String,
    /// `inbound`.
    pub direction: String,
    /// The agent's after-call work was skipped; left out otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acw_skipped: bool,
    /// The session's metrics (the agent's: `tAcw`, `tHandle`, `tTalk`, `nConnected`,
    /// `nOffered`, as far as known); left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<AnalyticsSessionMetric>,
    pub segments: Vec<AnalyticsConversationSegment>,
}

/// `AnalyticsSessionMetric`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsSessionMetric {
    pub name: String,
    pub value: i64,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub emit_date: OffsetDateTime,
}

/// `AnalyticsConversationSegment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsConversationSegment {
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub segment_start: OffsetDateTime,
    /// Left out while the segment goes on.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub segment_end: Option<OffsetDateTime>,
    /// `alert`, `interact` or `wrapup`.
    pub segment_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<Uuid>,
    /// On the `wrapup` segment: the code's id, or `ININ-WRAP-UP-TIMEOUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_note: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrap_up_tags: Vec<String>,
    /// On the segment that ends the conversation: `client` (the interaction was closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnect_type: Option<String>,
}

/// `ConversationAggregateQueryResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationAggregateQueryResponse {
    /// One per group that has data; left out when none has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<AggregateDataContainer>,
}

/// `ConversationAggregateDataContainer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AggregateDataContainer {
    /// The group's value of each `groupBy` dimension it has (one without a value is left
    /// out).
    pub group: BTreeMap<String, String>,
    pub data: Vec<StatisticalResponse>,
}

/// `StatisticalResponse`: one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatisticalResponse {
    /// The bucket, `start/end`.
    pub interval: String,
    pub metrics: Vec<AggregateMetricData>,
}

/// `AggregateMetricData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AggregateMetricData {
    pub metric: String,
    pub stats: StatisticalSummary,
}

/// `StatisticalSummary`: times in milliseconds, counts as the `sum` of ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatisticalSummary {
    pub max: f64,
    pub min: f64,
    pub count: u64,
    pub sum: f64,
}
