// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title JobBoard v1
/// @notice An immutable on-chain job board. Employers publish postings whose content lives in
///         events; applicants apply with a salted commitment to a private document.
/// @dev No owner, no proxy, no external calls, no payable functions, no loops over storage.
///      Every state change emits exactly one event per entity changed, after the checks and the
///      write, carrying the entity's absolute new state, so an indexer never needs to call back.
///      Storage keeps only what authorization and the rules need; posting text is not stored.
contract JobBoard {
    // ---------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------

    /// @notice The content of a job posting. Strings are untrusted bytes (not validated as UTF-8).
    /// @param title Required, 1..200 bytes.
    /// @param company 0..100 bytes.
    /// @param location 0..100 bytes ("Remote" is a location).
    /// @param tags Comma-separated, 0..200 bytes.
    /// @param description Markdown, 0..4096 bytes.
    /// @param salaryCurrency 0..12 bytes, e.g. "USD"; required if a salary is given.
    /// @param salaryMin 0 = not disclosed.
    /// @param salaryMax 0 = not disclosed; else salaryMin <= salaryMax.
    /// @param deadline Unix seconds, the last second applications are taken; 0 = none; else in the
    ///        future when posted or updated.
    struct Posting {
        string title;
        string company;
        string location;
        string tags;
        string description;
        string salaryCurrency;
        uint64 salaryMin;
        uint64 salaryMax;
        uint64 deadline;
    }

    /// @notice Lifecycle of an application. Rejected, Hired and Withdrawn are final.
    enum ApplicationStatus {
        Submitted,
        Shortlisted,
        Rejected,
        Hired,
        Withdrawn
    }

    /// @notice Identifies the posting field a length error is about.
    enum PostingField {
        Title,
        Company,
        Location,
        Tags,
        Description,
        SalaryCurrency
    }

    /// @notice What the contract stores about a job: one storage slot.
    /// @param employer The address that posted the job; never zero for an existing job.
    /// @param deadline Unix seconds after which the job takes no applications; 0 = none.
    /// @param closed True once the employer closed the job; final.
    struct Job {
        address employer;
        uint64 deadline;
        bool closed;
    }

    /// @notice What the contract stores about an application: two storage slots.
    /// @param applicant The address that applied; never zero for an existing application.
    /// @param jobId The job applied to (job ids are sequential, so they fit 64 bits).
    /// @param status The current status.
    /// @param applicationHash The salted commitment to the applicant's document.
    struct Application {
        address applicant;
        uint64 jobId;
        ApplicationStatus status;
        bytes32 applicationHash;
    }

    // ---------------------------------------------------------------------------------------
    // Constants
    // ---------------------------------------------------------------------------------------

    /// @notice The interface version; a new version is a new deployment.
    string public constant VERSION = "1.0.0";
    /// @notice Domain separator string of the application-hash scheme.
    string public constant APPLICATION_HASH_DOMAIN = "jobboard.application.v1";

    /// @notice Maximum length of `Posting.title`, in bytes (it must also be non-empty).
    uint256 public constant MAX_TITLE_LENGTH = 200;
    /// @notice Maximum length of `Posting.company`, in bytes.
    uint256 public constant MAX_COMPANY_LENGTH = 100;
    /// @notice Maximum length of `Posting.location`, in bytes.
    uint256 public constant MAX_LOCATION_LENGTH = 100;
    /// @notice Maximum length of `Posting.tags`, in bytes.
    uint256 public constant MAX_TAGS_LENGTH = 200;
    /// @notice Maximum length of `Posting.description`, in bytes.
    uint256 public constant MAX_DESCRIPTION_LENGTH = 4096;
    /// @notice Maximum length of `Posting.salaryCurrency`, in bytes.
    uint256 public constant MAX_SALARY_CURRENCY_LENGTH = 12;

    // ---------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------

    /// @notice The id the next posted job will get. Starts at 1.
    uint256 public nextJobId = 1;
    /// @notice The id the next application will get. Starts at 1.
    uint256 public nextApplicationId = 1;

    mapping(uint256 jobId => Job) private _jobs;
    mapping(uint256 applicationId => Application) private _applications;
    /// @dev The live (not withdrawn) application of an applicant to a job, or 0.
    mapping(uint256 jobId => mapping(address applicant => uint256 applicationId)) private _liveApplication;

    // ---------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------

    /// @notice A job was posted.
    /// @param jobId The new job's id.
    /// @param employer The posting address, the only one that may update or close it.
    /// @param posting The full posting content.
    event JobPosted(uint256 indexed jobId, address indexed employer, Posting posting);

    /// @notice A job's posting was replaced; `posting` is the full new content.
    /// @param jobId The updated job.
    /// @param posting The full new posting content.
    event JobUpdated(uint256 indexed jobId, Posting posting);

    /// @notice A job was closed by its employer; it takes no more applications or updates.
    /// @param jobId The closed job.
    event JobClosed(uint256 indexed jobId);

    /// @notice An applicant applied to a job; the application starts as `Submitted`.
    /// @param jobId The job applied to.
    /// @param applicant The applying address.
    /// @param applicationId The new application's id.
    /// @param applicationHash The salted commitment to the applicant's private document.
    event ApplicationSubmitted(
        uint256 indexed jobId, address indexed applicant, uint256 indexed applicationId, bytes32 applicationHash
    );

    /// @notice An application's status changed; `status` is the new status.
    /// @param applicationId The application.
    /// @param jobId The job it belongs to.
    /// @param status The new status.
    event ApplicationStatusChanged(uint256 indexed applicationId, uint256 indexed jobId, ApplicationStatus status);

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    /// @notice The posting's title is empty.
    error EmptyTitle();
    /// @notice A posting field is longer than its limit.
    /// @param field The field.
    /// @param length Its length in bytes.
    /// @param maxLength The limit in bytes.
    error FieldTooLong(PostingField field, uint256 length, uint256 maxLength);
    /// @notice A salary was given without a currency.
    /// @param salaryMin The given minimum.
    /// @param salaryMax The given maximum.
    error SalaryCurrencyRequired(uint64 salaryMin, uint64 salaryMax);
    /// @notice Both salary bounds were given and the minimum exceeds the maximum.
    /// @param salaryMin The given minimum.
    /// @param salaryMax The given maximum.
    error SalaryRangeInverted(uint64 salaryMin, uint64 salaryMax);
    /// @notice The deadline is not after the current block's timestamp.
    /// @param deadline The given deadline.
    /// @param currentTimestamp The current block's timestamp.
    error DeadlineNotInFuture(uint64 deadline, uint256 currentTimestamp);
    /// @notice No job has this id.
    /// @param jobId The id.
    error JobNotFound(uint256 jobId);
    /// @notice Only the job's employer may do this.
    /// @param jobId The job.
    /// @param caller The caller.
    /// @param employer The job's employer.
    error NotJobEmployer(uint256 jobId, address caller, address employer);
    /// @notice The job is closed.
    /// @param jobId The job.
    error JobAlreadyClosed(uint256 jobId);
    /// @notice The job's deadline has passed (applications are taken up to and including the
    ///         deadline second).
    /// @param jobId The job.
    /// @param deadline Its deadline.
    /// @param currentTimestamp The current block's timestamp.
    error JobExpired(uint256 jobId, uint64 deadline, uint256 currentTimestamp);
    /// @notice An employer may not apply to their own job.
    /// @param jobId The job.
    /// @param employer The employer (the caller).
    error EmployerCannotApply(uint256 jobId, address employer);
    /// @notice The application hash is zero.
    error ZeroApplicationHash();
    /// @notice The caller already has a live (not withdrawn) application to this job.
    /// @param jobId The job.
    /// @param applicant The caller.
    /// @param applicationId The live application.
    error AlreadyApplied(uint256 jobId, address applicant, uint256 applicationId);
    /// @notice No application has this id.
    /// @param applicationId The id.
    error ApplicationNotFound(uint256 applicationId);
    /// @notice Only the application's applicant may do this.
    /// @param applicationId The application.
    /// @param caller The caller.
    /// @param applicant The application's applicant.
    error NotApplicant(uint256 applicationId, address caller, address applicant);
    /// @notice An employer may set only Shortlisted, Rejected or Hired.
    /// @param status The requested status.
    error StatusNotSettableByEmployer(ApplicationStatus status);
    /// @notice The application's current status does not allow this change.
    /// @param applicationId The application.
    /// @param from Its current status.
    /// @param to The requested status.
    error InvalidStatusTransition(uint256 applicationId, ApplicationStatus from, ApplicationStatus to);
    /// @notice A batch with no application ids.
    error EmptyBatch();

    // ---------------------------------------------------------------------------------------
    // Employer actions
    // ---------------------------------------------------------------------------------------

    /// @notice Publishes a job posting. The caller becomes its employer.
    /// @param posting The posting content; see `Posting` for the limits.
    /// @return jobId The new job's id.
    function postJob(Posting calldata posting) external returns (uint256 jobId) {
        _validatePosting(posting);
        jobId = nextJobId;
        unchecked {
            // Cannot overflow: one increment per transaction.
            nextJobId = jobId + 1;
        }
        _jobs[jobId] = Job({employer: msg.sender, deadline: posting.deadline, closed: false});
        emit JobPosted(jobId, msg.sender, posting);
    }

    /// @notice Replaces the posting of an open job. Employer only.
    /// @param jobId The job.
    /// @param posting The full new posting content; the deadline, if any, must be in the future.
    function updateJob(uint256 jobId, Posting calldata posting) external {
        Job storage job = _openJobOfCaller(jobId);
        _validatePosting(posting);
        if (job.deadline != posting.deadline) job.deadline = posting.deadline;
        emit JobUpdated(jobId, posting);
    }

    /// @notice Closes an open job: no more applications or updates. Status changes on its
    ///         existing applications still work (an employer may hire after closing). Employer only.
    /// @param jobId The job.
    function closeJob(uint256 jobId) external {
        Job storage job = _openJobOfCaller(jobId);
        job.closed = true;
        emit JobClosed(jobId);
    }

    /// @notice Moves one application of the caller's job to `status`. Employer only.
    /// @dev Allowed: Submitted -> Shortlisted | Rejected | Hired; Shortlisted -> Rejected | Hired.
    /// @param applicationId The application.
    /// @param status Shortlisted, Rejected or Hired.
    function setApplicationStatus(uint256 applicationId, ApplicationStatus status) external {
        _requireSettableByEmployer(status);
        _setStatusAsEmployer(applicationId, status);
    }

    /// @notice Moves several applications to the same `status`, all or nothing. Employer only:
    ///         the caller must be the employer of every application's job.
    /// @param applicationIds The applications; one event is emitted for each, in order.
    /// @param status Shortlisted, Rejected or Hired.
    function setApplicationStatusBatch(uint256[] calldata applicationIds, ApplicationStatus status) external {
        uint256 count = applicationIds.length;
        if (count == 0) revert EmptyBatch();
        _requireSettableByEmployer(status);
        for (uint256 i; i < count;) {
            _setStatusAsEmployer(applicationIds[i], status);
            unchecked {
                ++i;
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Applicant actions
    // ---------------------------------------------------------------------------------------

    /// @notice Applies to an open, unexpired job with a commitment to a private document.
    /// @dev The caller must not be the job's employer and must have no live application to it;
    ///      withdrawing and re-applying is how an applicant changes an application.
    /// @param jobId The job.
    /// @param applicationHash The commitment; see `applicationHashOf`. Must not be zero.
    /// @return applicationId The new application's id.
    function applyTo(uint256 jobId, bytes32 applicationHash) external returns (uint256 applicationId) {
        Job memory job = _jobs[jobId];
        if (job.employer == address(0)) revert JobNotFound(jobId);
        if (job.closed) revert JobAlreadyClosed(jobId);
        // A validator can skew the timestamp by seconds; deadlines are coarse, so that is harmless.
        // forge-lint: disable-next-line(block-timestamp)
        if (job.deadline != 0 && block.timestamp > job.deadline) {
            revert JobExpired(jobId, job.deadline, block.timestamp);
        }
        if (msg.sender == job.employer) revert EmployerCannotApply(jobId, msg.sender);
        if (applicationHash == bytes32(0)) revert ZeroApplicationHash();
        uint256 live = _liveApplication[jobId][msg.sender];
        if (live != 0) revert AlreadyApplied(jobId, msg.sender, live);

        applicationId = nextApplicationId;
        unchecked {
            // Cannot overflow: one increment per transaction.
            nextApplicationId = applicationId + 1;
        }
        _applications[applicationId] = Application({
            applicant: msg.sender,
            // casting to 'uint64' is safe because the job exists, so jobId < nextJobId, which
            // grows by one per transaction and cannot reach 2^64.
            // forge-lint: disable-next-line(unsafe-typecast)
            jobId: uint64(jobId),
            status: ApplicationStatus.Submitted,
            applicationHash: applicationHash
        });
        _liveApplication[jobId][msg.sender] = applicationId;
        emit ApplicationSubmitted(jobId, msg.sender, applicationId, applicationHash);
    }

    /// @notice Withdraws one of the caller's applications that is Submitted or Shortlisted.
    ///         Afterwards the caller may apply to the job again (with a new application id).
    /// @param applicationId The application.
    function withdrawApplication(uint256 applicationId) external {
        Application storage application = _applications[applicationId];
        address applicant = application.applicant;
        if (applicant == address(0)) revert ApplicationNotFound(applicationId);
        if (applicant != msg.sender) revert NotApplicant(applicationId, msg.sender, applicant);
        ApplicationStatus from = application.status;
        if (from != ApplicationStatus.Submitted && from != ApplicationStatus.Shortlisted) {
            revert InvalidStatusTransition(applicationId, from, ApplicationStatus.Withdrawn);
        }
        uint256 jobId = application.jobId;
        application.status = ApplicationStatus.Withdrawn;
        delete _liveApplication[jobId][applicant];
        emit ApplicationStatusChanged(applicationId, jobId, ApplicationStatus.Withdrawn);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @notice The commitment an applicant submits with `applyTo`, bound to this chain, this
    ///         board, the job and the applicant, so a copied hash is worthless elsewhere.
    /// @dev keccak256(abi.encode("jobboard.application.v1", block.chainid, address(this), jobId,
    ///      applicant, salt, documentHash)). The salt stops anyone from confirming a guessed
    ///      document.
    /// @param jobId The job.
    /// @param applicant The applicant's address.
    /// @param salt 32 random bytes chosen by the applicant and handed to the employer off-chain.
    /// @param documentHash sha256 of the document's bytes.
    /// @return The application hash.
    function applicationHashOf(uint256 jobId, address applicant, bytes32 salt, bytes32 documentHash)
        external
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(APPLICATION_HASH_DOMAIN, block.chainid, address(this), jobId, applicant, salt, documentHash)
        );
    }

    /// @notice What the contract stores about a job. Reverts with `JobNotFound` for an unknown id.
    /// @param jobId The job.
    /// @return The job's employer, deadline and closed flag.
    function getJob(uint256 jobId) external view returns (Job memory) {
        Job memory job = _jobs[jobId];
        if (job.employer == address(0)) revert JobNotFound(jobId);
        return job;
    }

    /// @notice What the contract stores about an application. Reverts with `ApplicationNotFound`
    ///         for an unknown id.
    /// @param applicationId The application.
    /// @return The application's applicant, job, status and hash.
    function getApplication(uint256 applicationId) external view returns (Application memory) {
        Application memory application = _applications[applicationId];
        if (application.applicant == address(0)) revert ApplicationNotFound(applicationId);
        return application;
    }

    /// @notice The applicant's live (not withdrawn) application to a job, or 0 if none.
    /// @param jobId The job.
    /// @param applicant The applicant.
    /// @return The application id, or 0.
    function applicationOf(uint256 jobId, address applicant) external view returns (uint256) {
        return _liveApplication[jobId][applicant];
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    /// @dev Loads a job the caller may update or close: it exists, is the caller's, is open.
    function _openJobOfCaller(uint256 jobId) private view returns (Job storage job) {
        job = _jobs[jobId];
        address employer = job.employer;
        if (employer == address(0)) revert JobNotFound(jobId);
        if (employer != msg.sender) revert NotJobEmployer(jobId, msg.sender, employer);
        if (job.closed) revert JobAlreadyClosed(jobId);
    }

    /// @dev Applies one employer status change after checking caller and transition.
    ///      `status` is already known to be Shortlisted, Rejected or Hired.
    function _setStatusAsEmployer(uint256 applicationId, ApplicationStatus status) private {
        Application storage application = _applications[applicationId];
        if (application.applicant == address(0)) revert ApplicationNotFound(applicationId);
        uint256 jobId = application.jobId;
        address employer = _jobs[jobId].employer;
        if (employer != msg.sender) revert NotJobEmployer(jobId, msg.sender, employer);
        ApplicationStatus from = application.status;
        // Submitted may go anywhere the employer may set; Shortlisted only onwards.
        if (
            from != ApplicationStatus.Submitted
                && (from != ApplicationStatus.Shortlisted || status == ApplicationStatus.Shortlisted)
        ) {
            revert InvalidStatusTransition(applicationId, from, status);
        }
        application.status = status;
        emit ApplicationStatusChanged(applicationId, jobId, status);
    }

    /// @dev Employers may set only Shortlisted, Rejected or Hired.
    function _requireSettableByEmployer(ApplicationStatus status) private pure {
        if (status == ApplicationStatus.Submitted || status == ApplicationStatus.Withdrawn) {
            revert StatusNotSettableByEmployer(status);
        }
    }

    /// @dev Checks every length limit and the salary and deadline rules.
    function _validatePosting(Posting calldata posting) private view {
        uint256 titleLength = bytes(posting.title).length;
        if (titleLength == 0) revert EmptyTitle();
        _checkLength(PostingField.Title, titleLength, MAX_TITLE_LENGTH);
        _checkLength(PostingField.Company, bytes(posting.company).length, MAX_COMPANY_LENGTH);
        _checkLength(PostingField.Location, bytes(posting.location).length, MAX_LOCATION_LENGTH);
        _checkLength(PostingField.Tags, bytes(posting.tags).length, MAX_TAGS_LENGTH);
        _checkLength(PostingField.Description, bytes(posting.description).length, MAX_DESCRIPTION_LENGTH);
        uint256 currencyLength = bytes(posting.salaryCurrency).length;
        _checkLength(PostingField.SalaryCurrency, currencyLength, MAX_SALARY_CURRENCY_LENGTH);

        uint64 salaryMin = posting.salaryMin;
        uint64 salaryMax = posting.salaryMax;
        if ((salaryMin != 0 || salaryMax != 0) && currencyLength == 0) {
            revert SalaryCurrencyRequired(salaryMin, salaryMax);
        }
        if (salaryMax != 0 && salaryMin > salaryMax) revert SalaryRangeInverted(salaryMin, salaryMax);

        uint64 deadline = posting.deadline;
        // A validator can skew the timestamp by seconds; deadlines are coarse, so that is harmless.
        // forge-lint: disable-next-line(block-timestamp)
        if (deadline != 0 && deadline <= block.timestamp) revert DeadlineNotInFuture(deadline, block.timestamp);
    }

    /// @dev Reverts with `FieldTooLong` if `length` exceeds `maxLength`.
    function _checkLength(PostingField field, uint256 length, uint256 maxLength) private pure {
        if (length > maxLength) revert FieldTooLong(field, length, maxLength);
    }
}
