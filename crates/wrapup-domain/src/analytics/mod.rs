//! Genesys analytics over wrapup's interactions (docs/genesys.md#analytics): what a
//! conversation looks like to the details query and which metrics it has (`facts`), the
//! checks of the two query bodies, each problem named with what is supported (`query`), the
//! interval, granularity and buckets (`interval`), filters (`filter`) and the aggregation
//! (`aggregate`). Pure: the store selects the interactions that started in the interval,
//! in the caller's divisions; everything else is decided here, once.

pub mod aggregate;
pub mod facts;
pub mod filter;
pub mod interval;
pub mod query;

pub use aggregate::Aggregation;
pub use facts::{conversation, metric};
pub use filter::Filter;
pub use interval::{Buckets, Interval};
pub use query::{AggregateQuery, DetailsQuery};

/// The dimensions wrapup computes, for filters; [`Dimension::GROUPABLE`] for `groupBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    ConversationId,
    DivisionId,
    OriginatingDirection,
    Purpose,
    UserId,
    MediaType,
    Direction,
    SegmentType,
    QueueId,
    WrapUpCode,
    WrapUpNote,
}

impl Dimension {
    pub const ALL: [Dimension; 11] = [
        Dimension::ConversationId,
        Dimension::DivisionId,
        Dimension::OriginatingDirection,
        Dimension::Purpose,
        Dimension::UserId,
        Dimension::MediaType,
        Dimension::Direction,
        Dimension::SegmentType,
        Dimension::QueueId,
        Dimension::WrapUpCode,
        Dimension::WrapUpNote,
    ];
    /// The dimensions with one value per conversation, which aggregates group by.
    pub const GROUPABLE: [Dimension; 8] = [
        Dimension::WrapUpCode,
        Dimension::QueueId,
        Dimension::UserId,
        Dimension::MediaType,
        Dimension::DivisionId,
        Dimension::Direction,
        Dimension::OriginatingDirection,
        Dimension::ConversationId,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Dimension::ConversationId => "conversationId",
            Dimension::DivisionId => "divisionId",
            Dimension::OriginatingDirection => "originatingDirection",
            Dimension::Purpose => "purpose",
            Dimension::UserId => "userId",
            Dimension::MediaType => "mediaType",
            Dimension::Direction => "direction",
            Dimension::SegmentType => "segmentType",
            Dimension::QueueId => "queueId",
            Dimension::WrapUpCode => "wrapUpCode",
            Dimension::WrapUpNote => "wrapUpNote",
        }
    }

    /// The dimension Genesys spells `name` (exactly).
    pub fn parse(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Whether values are ids compared without regard to case.
    pub const fn is_id(self) -> bool {
        matches!(
            self,
            Dimension::ConversationId
                | Dimension::DivisionId
                | Dimension::UserId
                | Dimension::QueueId
                | Dimension::WrapUpCode
        )
    }
}

/// The metrics wrapup computes (see [`facts::metric`] for each one's definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    NOffered,
    NConnected,
    TTalk,
    TAcw,
    THandle,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::NOffered,
        Metric::NConnected,
        Metric::TTalk,
        Metric::TAcw,
        Metric::THandle,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Metric::NOffered => "nOffered",
            Metric::NConnected => "nConnected",
            Metric::TTalk => "tTalk",
            Metric::TAcw => "tAcw",
            Metric::THandle => "tHandle",
        }
    }

    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Names joined for a message: `a, b, c`.
pub(crate) fn list<I: IntoIterator<Item = &'static str>>(names: I) -> String {
    names.into_iter().collect::<Vec<_>>().join(", ")
}
