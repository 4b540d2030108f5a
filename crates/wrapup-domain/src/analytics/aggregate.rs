//! The aggregation of an aggregate query: each interaction that started in the interval
//! (the store selects those, in the caller's divisions) and passes the filter counts in
//! the bucket of its start, in its group (its value of each `groupBy` dimension; a
//! dimension without a value is left out of the group), with each asked metric it has
//! (`facts::metric`): `count` how many, `sum`, `min`, `max` of their values (times in ms,
//! counts as ones).

use std::collections::BTreeMap;

use wrapup_types::genesys::{
    AggregateDataContainer, AggregateMetricData, ConversationAggregateQueryResponse,
    StatisticalResponse, StatisticalSummary,
};
use wrapup_types::timestamp::to_millis;
use wrapup_types::Interaction;

use super::facts::{self, group_value};
use super::query::AggregateQuery;
use super::Metric;

type Group = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy)]
struct Stats {
    count: u64,
    sum: i64,
    min: i64,
    max: i64,
}

impl Stats {
    fn add(&mut self, v: i64) {
        self.count += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }
}

/// An aggregation in progress.
#[derive(Debug)]
pub struct Aggregation<'q> {
    query: &'q AggregateQuery,
    cells: BTreeMap<Group, BTreeMap<i64, BTreeMap<Metric, Stats>>>,
}

impl<'q> Aggregation<'q> {
    pub fn new(query: &'q AggregateQuery) -> Aggregation<'q> {
        Aggregation {
            query,
            cells: BTreeMap::new(),
        }
    }

    /// Counts one interaction (ignored when it did not start in the interval or the filter
    /// does not hold).
    pub fn add(&mut self, i: &Interaction, agent_name: Option<&str>) {
        let Some(bucket) = self.query.buckets.index(to_millis(i.created_at)) else {
            return;
        };
        if let Some(filter) = &self.query.filter {
            if !filter.matches(&facts::conversation(i, agent_name)) {
                return;
            }
        }
        let values: Vec<(Metric, i64)> = self
            .query
            .metrics
            .iter()
            .filter_map(|m| facts::metric(i, *m).map(|(v, _)| (*m, v)))
            .collect();
        if values.is_empty() {
            return;
        }
        let group: Group = self
            .query
            .group_by
            .iter()
            .filter_map(|d| group_value(i, *d).map(|v| (d.name().to_string(), v)))
            .collect();
        let cell = self
            .cells
            .entry(group)
            .or_default()
            .entry(bucket)
            .or_default();
        for (m, v) in values {
            cell.entry(m)
                .or_insert(Stats {
                    count: 0,
                    sum: 0,
                    min: i64::MAX,
                    max: i64::MIN,
                })
                .add(v);
        }
    }

    /// The answer: groups in order of their values, buckets in time order, metrics in the
    /// order asked; only what has data.
    pub fn finish(self) -> ConversationAggregateQueryResponse {
        let query = self.query;
        let results = self
            .cells
            .into_iter()
            .map(|(group, buckets)| AggregateDataContainer {
                group,
                data: buckets
                    .into_iter()
                    .map(|(index, metrics)| StatisticalResponse {
                        interval: query.buckets.bucket(index).render(),
                        metrics: query
                            .metrics
                            .iter()
                            .filter_map(|m| {
                                metrics.get(m).map(|s| AggregateMetricData {
                                    metric: m.name().to_string(),
                                    stats: StatisticalSummary {
                                        max: s.max as f64,
                                        min: s.min as f64,
                                        count: s.count,
                                        sum: s.sum as f64,
                                    },
                                })
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        ConversationAggregateQueryResponse { results }
    }
}

#[cfg(test)]
mod tests;
