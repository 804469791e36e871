//! The three frontend queries the API bench drives, shared with the test that checks they
//! answer the same through a connection pooler (tests/it/pgbouncer.rs).

/// The board's front page: the newest open jobs with their employers.
pub const NEWEST_OPEN_JOBS: &str = "{ jobs(where: {status: OPEN}, orderBy: NEWEST, first: 20) { nodes { id title company salaryMin salaryMax tags postedAt employer { address } } } }";
/// A job's page: the job and its first applications with their applicants (`$id`).
pub const JOB_WITH_APPLICATIONS: &str = "query($id: ID!) { job(id: $id) { id title applicationCount applications(first: 20) { nodes { id status applicant { address } submittedAt } } } }";
/// An applicant's page: their applications with each job (`$a`).
pub const APPLICANT_APPLICATIONS: &str = "query($a: Address!) { applicant(address: $a) { applicationCount applications(first: 20) { nodes { id status job { id title } } } } }";
