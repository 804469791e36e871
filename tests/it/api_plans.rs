//! Every ordering and filter of the spec is served by an index: the plans PostgreSQL picks for
//! the API's statements on a generated board of 200k events (large enough that a scan would
//! be the planner's choice if no index matched), read with `EXPLAIN`.

use std::collections::BTreeMap;

use anyhow::{Result, ensure};
use chrono::{TimeZone, Utc};
use jobboard::store::{
    ActivityFilter, ApplicationFilter, ApplicationOrder, ApplicationScope, JobFilter, JobOrder, JobStatus,
    PageRequest, Reader, SortKey,
};

use crate::support::db::test_database;
use crate::support::generated::{employer, generate_board, stranger};

/// Tables whose full scan would grow with the board.
const BIG_TABLES: [&str; 4] = ["events", "jobs", "applications", "job_revisions"];

fn first_page() -> PageRequest {
    PageRequest { after: None, before: None, limit: 20, from_end: false }
}

fn after(value: &str, id: i64) -> PageRequest {
    PageRequest { after: Some(SortKey { value: value.to_owned(), id }), ..first_page() }
}

/// The tables a plan reads with a sequential scan.
fn scanned(plan: &str) -> Vec<&'static str> {
    BIG_TABLES.into_iter().filter(|t| plan.contains(&format!("Seq Scan on {t} "))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_ordering_and_filter_is_served_by_an_index() -> Result<()> {
    let db = test_database().await?;
    let board = generate_board(&db.pool, 200_000).await?;
    let reader = Reader::new(db.pool.clone(), board)?;

    let text = |t: &str| Some(t.to_owned());
    let time = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).single();
    let job_filters: Vec<(&str, JobFilter)> = vec![
        ("none", JobFilter::default()),
        ("id_in", JobFilter { id_in: Some(vec![5, 500, 5000]), ..Default::default() }),
        ("employer", JobFilter { employer: Some(employer(7)), ..Default::default() }),
        ("status OPEN", JobFilter { status_in: Some(vec![JobStatus::Open]), ..Default::default() }),
        ("status CLOSED", JobFilter { status_in: Some(vec![JobStatus::Closed]), ..Default::default() }),
        ("title_contains", JobFilter { title_contains: text("Engineer 1234"), ..Default::default() }),
        ("location_contains", JobFilter { location_contains: text("isbo"), ..Default::default() }),
        ("tags_has", JobFilter { tags_has: text("web3"), ..Default::default() }),
        ("salaryMin_gte", JobFilter { salary_min_gte: Some(199_000), ..Default::default() }),
        ("salaryMax_lte", JobFilter { salary_max_lte: Some(41_000), ..Default::default() }),
        ("postedAt_gte", JobFilter { posted_at_gte: time, ..Default::default() }),
        ("postedAt_lte", JobFilter { posted_at_lte: time, ..Default::default() }),
        ("deadline_gte", JobFilter { deadline_gte: time, ..Default::default() }),
    ];
    let orders = [
        (JobOrder::Newest, after("", 10_000)),
        (JobOrder::Oldest, after("", 100)),
        (JobOrder::SalaryHighToLow, after("150000", 9_000)),
        (JobOrder::DeadlineSoonest, after("1798848000", 1_000)),
        (JobOrder::MostApplications, after("5", 3_000)),
    ];
    let mut plans = BTreeMap::new();
    for (order, later_page) in &orders {
        for (name, filter) in &job_filters {
            for (page_name, page) in [("first page", first_page()), ("later page", later_page.clone())] {
                let plan = reader.explain_jobs(filter, None, *order, &page).await?;
                plans.insert(format!("jobs {order:?} where {name}, {page_name}"), plan);
            }
        }
    }
    let plan = reader
        .explain_jobs(
            &JobFilter::default(),
            Some("solidity engineer 12345"),
            JobOrder::Relevance,
            &first_page(),
        )
        .await?;
    plans.insert("jobs search".to_owned(), plan);

    let application_filters: Vec<(&str, ApplicationFilter)> = vec![
        ("none", ApplicationFilter::default()),
        ("jobId", ApplicationFilter { job_id: Some(77), ..Default::default() }),
        (
            "applicant",
            ApplicationFilter {
                applicant: Some(crate::support::generated::applicant(3)),
                ..Default::default()
            },
        ),
        ("status_in", ApplicationFilter { status_in: Some(vec![1]), ..Default::default() }),
        ("submittedAt_gte", ApplicationFilter { submitted_at_gte: time, ..Default::default() }),
    ];
    for order in [ApplicationOrder::Newest, ApplicationOrder::Oldest] {
        for (name, filter) in &application_filters {
            let plan =
                reader.explain_applications(&ApplicationScope::All, filter, order, &first_page()).await?;
            plans.insert(format!("applications {order:?} where {name}"), plan);
        }
        let plan = reader
            .explain_applications(
                &ApplicationScope::Jobs(vec![77]),
                &ApplicationFilter::default(),
                order,
                &first_page(),
            )
            .await?;
        plans.insert(format!("job 77's applications {order:?}"), plan);
    }

    let activity_filters: Vec<(&str, ActivityFilter)> = vec![
        ("none", ActivityFilter::default()),
        ("jobId", ActivityFilter { job_id: Some(77), ..Default::default() }),
        ("applicationId", ActivityFilter { application_id: Some(777), ..Default::default() }),
        ("address (employer)", ActivityFilter { address: Some(employer(7)), ..Default::default() }),
        ("address (unknown)", ActivityFilter { address: Some(stranger()), ..Default::default() }),
        (
            "kind_in",
            ActivityFilter {
                kind_in: Some(vec![jobboard::contract::EventKind::ApplicationSubmitted]),
                ..Default::default()
            },
        ),
    ];
    for (name, filter) in &activity_filters {
        for (page_name, page) in [("first page", first_page()), ("later page", after("30000", 2))] {
            let plan = reader.explain_activity(filter, &page).await?;
            plans.insert(format!("activity where {name}, {page_name}"), plan);
        }
    }

    let mut failures = Vec::new();
    for (case, plan) in &plans {
        let tables = scanned(plan);
        if !tables.is_empty() {
            failures.push(format!("{case}: scans {tables:?}\n{plan}"));
        }
        // An address must be looked up by its ids, never found by walking the whole feed.
        if case.starts_with("activity where address") && plan.contains("events_pkey") {
            failures.push(format!("{case}: walks the feed\n{plan}"));
        }
    }
    println!("{} plans checked", plans.len());
    ensure!(
        failures.is_empty(),
        "{} of {} plans scan:\n\n{}",
        failures.len(),
        plans.len(),
        failures.join("\n\n")
    );
    Ok(())
}
