// The part of the JobBoard contract's ABI the page uses: the writes, the event that carries a
// new application's id, and every custom error (so reverts decode into sentences). Typed as a
// const so viem checks function names and arguments at compile time; a unit test keeps it equal
// to the compiled artifact.

const posting = {
  name: "posting",
  type: "tuple",
  components: [
    { name: "title", type: "string" },
    { name: "company", type: "string" },
    { name: "location", type: "string" },
    { name: "tags", type: "string" },
    { name: "description", type: "string" },
    { name: "salaryCurrency", type: "string" },
    { name: "salaryMin", type: "uint64" },
    { name: "salaryMax", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

/** The functions, event and errors of JobBoard v1 that the page needs. */
export const jobBoardAbi = [
  { type: "function", name: "postJob", inputs: [posting], outputs: [{ name: "jobId", type: "uint256" }], stateMutability: "nonpayable" },
  {
    type: "function",
    name: "updateJob",
    inputs: [{ name: "jobId", type: "uint256" }, posting],
    outputs: [],
    stateMutability: "nonpayable",
  },
  { type: "function", name: "closeJob", inputs: [{ name: "jobId", type: "uint256" }], outputs: [], stateMutability: "nonpayable" },
  {
    type: "function",
    name: "setApplicationStatus",
    inputs: [
      { name: "applicationId", type: "uint256" },
      { name: "status", type: "uint8" },
    ],
    outputs: [],
    stateMutability: "nonpayable",
  },
  {
    type: "function",
    name: "setApplicationStatusBatch",
    inputs: [
      { name: "applicationIds", type: "uint256[]" },
      { name: "status", type: "uint8" },
    ],
    outputs: [],
    stateMutability: "nonpayable",
  },
  {
    type: "function",
    name: "applyTo",
    inputs: [
      { name: "jobId", type: "uint256" },
      { name: "applicationHash", type: "bytes32" },
    ],
    outputs: [{ name: "applicationId", type: "uint256" }],
    stateMutability: "nonpayable",
  },
  {
    type: "function",
    name: "withdrawApplication",
    inputs: [{ name: "applicationId", type: "uint256" }],
    outputs: [],
    stateMutability: "nonpayable",
  },
  {
    type: "event",
    name: "JobPosted",
    inputs: [
      { name: "jobId", type: "uint256", indexed: true },
      { name: "employer", type: "address", indexed: true },
      { ...posting, indexed: false },
    ],
    anonymous: false,
  },
  {
    type: "event",
    name: "ApplicationSubmitted",
    inputs: [
      { name: "jobId", type: "uint256", indexed: true },
      { name: "applicant", type: "address", indexed: true },
      { name: "applicationId", type: "uint256", indexed: true },
      { name: "applicationHash", type: "bytes32", indexed: false },
    ],
    anonymous: false,
  },
  { type: "error", name: "EmptyTitle", inputs: [] },
  {
    type: "error",
    name: "FieldTooLong",
    inputs: [
      { name: "field", type: "uint8" },
      { name: "length", type: "uint256" },
      { name: "maxLength", type: "uint256" },
    ],
  },
  {
    type: "error",
    name: "SalaryCurrencyRequired",
    inputs: [
      { name: "salaryMin", type: "uint64" },
      { name: "salaryMax", type: "uint64" },
    ],
  },
  {
    type: "error",
    name: "SalaryRangeInverted",
    inputs: [
      { name: "salaryMin", type: "uint64" },
      { name: "salaryMax", type: "uint64" },
    ],
  },
  {
    type: "error",
    name: "DeadlineNotInFuture",
    inputs: [
      { name: "deadline", type: "uint64" },
      { name: "currentTimestamp", type: "uint256" },
    ],
  },
  { type: "error", name: "JobNotFound", inputs: [{ name: "jobId", type: "uint256" }] },
  {
    type: "error",
    name: "NotJobEmployer",
    inputs: [
      { name: "jobId", type: "uint256" },
      { name: "caller", type: "address" },
      { name: "employer", type: "address" },
    ],
  },
  { type: "error", name: "JobAlreadyClosed", inputs: [{ name: "jobId", type: "uint256" }] },
  {
    type: "error",
    name: "JobExpired",
    inputs: [
      { name: "jobId", type: "uint256" },
      { name: "deadline", type: "uint64" },
      { name: "currentTimestamp", type: "uint256" },
    ],
  },
  {
    type: "error",
    name: "EmployerCannotApply",
    inputs: [
      { name: "jobId", type: "uint256" },
      { name: "employer", type: "address" },
    ],
  },
  { type: "error", name: "ZeroApplicationHash", inputs: [] },
  {
    type: "error",
    name: "AlreadyApplied",
    inputs: [
      { name: "jobId", type: "uint256" },
      { name: "applicant", type: "address" },
      { name: "applicationId", type: "uint256" },
    ],
  },
  { type: "error", name: "ApplicationNotFound", inputs: [{ name: "applicationId", type: "uint256" }] },
  {
    type: "error",
    name: "NotApplicant",
    inputs: [
      { name: "applicationId", type: "uint256" },
      { name: "caller", type: "address" },
      { name: "applicant", type: "address" },
    ],
  },
  { type: "error", name: "StatusNotSettableByEmployer", inputs: [{ name: "status", type: "uint8" }] },
  {
    type: "error",
    name: "InvalidStatusTransition",
    inputs: [
      { name: "applicationId", type: "uint256" },
      { name: "from", type: "uint8" },
      { name: "to", type: "uint8" },
    ],
  },
  { type: "error", name: "EmptyBatch", inputs: [] },
] as const;

/** The contract's `ApplicationStatus` enum, in its order (the byte the functions take). */
export const STATUS_CODES = ["SUBMITTED", "SHORTLISTED", "REJECTED", "HIRED", "WITHDRAWN"] as const;

/** A status as the API names it. */
export type ApplicationStatus = (typeof STATUS_CODES)[number];

/** The statuses an employer may set. */
export type EmployerStatus = "SHORTLISTED" | "REJECTED" | "HIRED";

/** The enum byte of `status`, as `setApplicationStatus` takes it. */
export function statusCode(status: ApplicationStatus): number {
  return STATUS_CODES.indexOf(status);
}
