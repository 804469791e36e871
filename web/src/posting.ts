// A posting's fields as the API returns them on a Job and on each JobRevision: one shape for
// every view that reads them.

/** The contract's `Posting`, as GraphQL answers it (amounts and times as decimal strings). */
export interface PostingFields {
  title: string;
  company: string;
  location: string;
  tags: string[];
  description: string;
  salaryCurrency: string;
  salaryMin: string | null;
  salaryMax: string | null;
  deadline: string | null;
  deadlineUnix: string | null;
}
