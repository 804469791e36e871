// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Over 600 lines: the base fixture and one test contract per function of the board (post,
// update, close, apply, status, batch, views), kept together because they share the fixture.

import {Test} from "./utils/Test.sol";
import {JobBoard} from "../src/JobBoard.sol";

/// @notice Shared fixtures of the JobBoard unit, fuzz and gas tests: a fresh board at a fixed
///         time, named actors, a typical posting and helpers that assert the stored state.
abstract contract JobBoardTestBase is Test {
    JobBoard.ApplicationStatus internal constant SUBMITTED = JobBoard.ApplicationStatus.Submitted;
    JobBoard.ApplicationStatus internal constant SHORTLISTED = JobBoard.ApplicationStatus.Shortlisted;
    JobBoard.ApplicationStatus internal constant REJECTED = JobBoard.ApplicationStatus.Rejected;
    JobBoard.ApplicationStatus internal constant HIRED = JobBoard.ApplicationStatus.Hired;
    JobBoard.ApplicationStatus internal constant WITHDRAWN = JobBoard.ApplicationStatus.Withdrawn;

    /// @dev 2023-11-14T22:13:20Z: a realistic, nonzero block timestamp.
    uint64 internal constant START = 1_700_000_000;

    JobBoard internal board;
    address internal employer;
    address internal otherEmployer;
    address internal applicant;
    address internal otherApplicant;
    address internal stranger;
    uint256 private _freshActorNonce;

    function setUp() public virtual {
        vm.warp(START);
        board = new JobBoard();
        employer = _actor("employer");
        otherEmployer = _actor("otherEmployer");
        applicant = _actor("applicant");
        otherApplicant = _actor("otherApplicant");
        stranger = _actor("stranger");
    }

    // ----------------------------------------------------------------- actors and postings

    function _actor(string memory name) internal returns (address who) {
        who = vm.addr(uint256(keccak256(bytes(name))));
        vm.label(who, name);
    }

    /// @dev A new address that never acted on the board.
    function _freshActor() internal returns (address) {
        return _actor(string.concat("fresh", vm.toString(++_freshActorNonce)));
    }

    /// @dev A typical, valid posting with every field set.
    function _posting() internal pure returns (JobBoard.Posting memory) {
        return JobBoard.Posting({
            title: "Senior Solidity Engineer",
            company: "Acme Protocol Labs",
            location: "Remote (EU timezones)",
            tags: "solidity,evm,defi,foundry",
            description: "## About the role\nYou will design and audit immutable contracts.\n\n- 5+ years\n- Foundry",
            salaryCurrency: "USD",
            salaryMin: 120_000,
            salaryMax: 160_000,
            deadline: START + 30 days
        });
    }

    /// @dev The smallest valid posting: a one-byte title and nothing else.
    function _minimalPosting() internal pure returns (JobBoard.Posting memory posting) {
        posting.title = "T";
    }

    /// @dev A posting different from `_posting()` in every field, for updates.
    function _otherPosting() internal pure returns (JobBoard.Posting memory) {
        return JobBoard.Posting({
            title: "Protocol Engineer (Rust)",
            company: "Other Co",
            location: "Berlin",
            tags: "rust,alloy",
            description: "Indexers and tooling.",
            salaryCurrency: "EUR",
            salaryMin: 90_000,
            salaryMax: 0,
            deadline: START + 60 days
        });
    }

    /// @dev A string of `length` copies of `char`.
    function _repeat(bytes1 char, uint256 length) internal pure returns (string memory) {
        bytes memory out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            out[i] = char;
        }
        return string(out);
    }

    /// @dev `posting` with `field` replaced by a string of `length` bytes.
    function _withFieldLength(JobBoard.Posting memory posting, JobBoard.PostingField field, uint256 length)
        internal
        pure
        returns (JobBoard.Posting memory)
    {
        string memory value = _repeat("x", length);
        if (field == JobBoard.PostingField.Title) posting.title = value;
        else if (field == JobBoard.PostingField.Company) posting.company = value;
        else if (field == JobBoard.PostingField.Location) posting.location = value;
        else if (field == JobBoard.PostingField.Tags) posting.tags = value;
        else if (field == JobBoard.PostingField.Description) posting.description = value;
        else posting.salaryCurrency = value;
        return posting;
    }

    function _maxLength(JobBoard.PostingField field) internal view returns (uint256) {
        if (field == JobBoard.PostingField.Title) return board.MAX_TITLE_LENGTH();
        if (field == JobBoard.PostingField.Company) return board.MAX_COMPANY_LENGTH();
        if (field == JobBoard.PostingField.Location) return board.MAX_LOCATION_LENGTH();
        if (field == JobBoard.PostingField.Tags) return board.MAX_TAGS_LENGTH();
        if (field == JobBoard.PostingField.Description) return board.MAX_DESCRIPTION_LENGTH();
        return board.MAX_SALARY_CURRENCY_LENGTH();
    }

    function _fieldTooLong(JobBoard.PostingField field, uint256 length, uint256 max)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(JobBoard.FieldTooLong.selector, field, length, max);
    }

    // ----------------------------------------------------------------- actions

    function _post() internal returns (uint256) {
        return _post(employer, _posting());
    }

    function _post(address who, JobBoard.Posting memory posting) internal returns (uint256) {
        vm.prank(who);
        return board.postJob(posting);
    }

    /// @dev A job without a deadline, so that time never matters for it.
    function _postOpenEnded(address who) internal returns (uint256) {
        JobBoard.Posting memory posting = _posting();
        posting.deadline = 0;
        return _post(who, posting);
    }

    function _hash(uint256 jobId, address who) internal pure returns (bytes32) {
        return keccak256(abi.encode("test document", jobId, who));
    }

    function _apply(uint256 jobId, address who) internal returns (uint256) {
        vm.prank(who);
        return board.applyTo(jobId, _hash(jobId, who));
    }

    function _setStatus(uint256 applicationId, JobBoard.ApplicationStatus status) internal {
        vm.prank(employer);
        board.setApplicationStatus(applicationId, status);
    }

    function _withdraw(uint256 applicationId, address who) internal {
        vm.prank(who);
        board.withdrawApplication(applicationId);
    }

    /// @dev A new application by a fresh applicant to `jobId` (of `employer`), moved to `status`
    ///      along the shortest allowed path.
    function _applicationIn(uint256 jobId, JobBoard.ApplicationStatus status) internal returns (uint256 id) {
        address who = _freshActor();
        id = _apply(jobId, who);
        if (status == SUBMITTED) return id;
        if (status == WITHDRAWN) {
            _withdraw(id, who);
        } else {
            _setStatus(id, status);
        }
        vm.assertEq(uint256(board.getApplication(id).status), uint256(status), "fixture status");
    }

    function _ids(uint256 a) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = a;
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        ids[0] = a;
        ids[1] = b;
    }

    function _ids(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](3);
        ids[0] = a;
        ids[1] = b;
        ids[2] = c;
    }

    // ----------------------------------------------------------------- assertions

    function _assertJob(uint256 jobId, address expectedEmployer, uint64 deadline, bool closed) internal view {
        JobBoard.Job memory job = board.getJob(jobId);
        vm.assertEq(job.employer, expectedEmployer, "job.employer");
        vm.assertEq(uint256(job.deadline), uint256(deadline), "job.deadline");
        vm.assertEq(job.closed, closed, "job.closed");
    }

    function _assertApplication(
        uint256 applicationId,
        address expectedApplicant,
        uint256 jobId,
        JobBoard.ApplicationStatus status,
        bytes32 applicationHash
    ) internal view {
        JobBoard.Application memory application = board.getApplication(applicationId);
        vm.assertEq(application.applicant, expectedApplicant, "application.applicant");
        vm.assertEq(uint256(application.jobId), jobId, "application.jobId");
        vm.assertEq(uint256(application.status), uint256(status), "application.status");
        vm.assertEq(application.applicationHash, applicationHash, "application.applicationHash");
    }

    function _assertStatus(uint256 applicationId, JobBoard.ApplicationStatus status) internal view {
        vm.assertEq(uint256(board.getApplication(applicationId).status), uint256(status), "application.status");
    }
}

/// @notice postJob: the event, the stored job, ids, and every posting rule at its edge.
contract JobBoardPostJobTest is JobBoardTestBase {
    function test_postJob_emitsJobPostedWithFullPosting() public {
        JobBoard.Posting memory posting = _posting();
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.JobPosted(1, employer, posting);
        vm.prank(employer);
        board.postJob(posting);
    }

    function test_postJob_returnsSequentialIdsStartingAtOne() public {
        vm.assertEq(_post(), 1, "first job id");
        vm.assertEq(_post(otherEmployer, _posting()), 2, "second job id");
        vm.assertEq(_post(), 3, "third job id");
        vm.assertEq(board.nextJobId(), 4, "nextJobId");
    }

    function test_postJob_storesEmployerDeadlineAndOpen() public {
        uint256 jobId = _post();
        _assertJob(jobId, employer, START + 30 days, false);
    }

    function test_postJob_acceptsMinimalPosting() public {
        JobBoard.Posting memory posting = _minimalPosting();
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.JobPosted(1, employer, posting);
        uint256 jobId = _post(employer, posting);
        _assertJob(jobId, employer, 0, false);
    }

    function test_postJob_carriesNonUtf8BytesVerbatim() public {
        JobBoard.Posting memory posting = _minimalPosting();
        posting.title = string(bytes(hex"ff00fe"));
        posting.description = string(bytes(hex"c328e28228"));
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.JobPosted(1, employer, posting);
        _post(employer, posting);
    }

    function test_postJob_failedPostDoesNotConsumeAnId() public {
        JobBoard.Posting memory posting = _posting();
        posting.title = "";
        vm.expectRevert(abi.encodeWithSelector(JobBoard.EmptyTitle.selector));
        vm.prank(employer);
        board.postJob(posting);
        vm.assertEq(board.nextJobId(), 1, "nextJobId after a failed post");
        vm.assertEq(_post(), 1, "first successful job id");
    }

    // Title: required, 1..200 bytes.

    function test_postJob_revertsOnEmptyTitle() public {
        JobBoard.Posting memory posting = _posting();
        posting.title = "";
        vm.expectRevert(abi.encodeWithSelector(JobBoard.EmptyTitle.selector));
        vm.prank(employer);
        board.postJob(posting);
    }

    function test_postJob_acceptsTitleOfMaxLength() public {
        _assertAcceptsMaxLength(JobBoard.PostingField.Title, 200);
    }

    function test_postJob_revertsWhenTitleTooLong() public {
        _assertRejectsMaxLengthPlusOne(JobBoard.PostingField.Title, 200);
    }

    function test_postJob_acceptsCompanyOfMaxLength() public {
        _assertAcceptsMaxLength(JobBoard.PostingField.Company, 100);
    }

    function test_postJob_revertsWhenCompanyTooLong() public {
        _assertRejectsMaxLengthPlusOne(JobBoard.PostingField.Company, 100);
    }

    function test_postJob_acceptsLocationOfMaxLength() public {
        _assertAcceptsMaxLength(JobBoard.PostingField.Location, 100);
    }

    function test_postJob_revertsWhenLocationTooLong() public {
        _assertRejectsMaxLengthPlusOne(JobBoard.PostingField.Location, 100);
    }

    function test_postJob_acceptsTagsOfMaxLength() public {
        _assertAcceptsMaxLength(JobBoard.PostingField.Tags, 200);
    }

    function test_postJob_revertsWhenTagsTooLong() public {
        _assertRejectsMaxLengthPlusOne(JobBoard.PostingField.Tags, 200);
    }

    function test_postJob_acceptsDescriptionOfMaxLength() public {
        _assertAcceptsMaxLength(JobBoard.PostingField.Description, 4096);
    }

    function test_postJob_revertsWhenDescriptionTooLong() public {
        _assertRejectsMaxLengthPlusOne(JobBoard.PostingField.Description, 4096);
    }

    function test_postJob_acceptsSalaryCurrencyOfMaxLength() public {
        _assertAcceptsMaxLength(JobBoard.PostingField.SalaryCurrency, 12);
    }

    function test_postJob_revertsWhenSalaryCurrencyTooLong() public {
        _assertRejectsMaxLengthPlusOne(JobBoard.PostingField.SalaryCurrency, 12);
    }

    function test_postJob_acceptsEveryFieldAtMaxLengthTogether() public {
        JobBoard.Posting memory posting = _posting();
        for (uint8 field; field <= uint8(JobBoard.PostingField.SalaryCurrency); ++field) {
            JobBoard.PostingField f = JobBoard.PostingField(field);
            posting = _withFieldLength(posting, f, _maxLength(f));
        }
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.JobPosted(1, employer, posting);
        _post(employer, posting);
    }

    function test_postJob_reportsTheFirstTooLongFieldInDeclarationOrder() public {
        JobBoard.Posting memory posting = _posting();
        posting = _withFieldLength(posting, JobBoard.PostingField.Tags, 201);
        posting = _withFieldLength(posting, JobBoard.PostingField.Company, 150);
        vm.expectRevert(_fieldTooLong(JobBoard.PostingField.Company, 150, 100));
        vm.prank(employer);
        board.postJob(posting);
    }

    function _assertAcceptsMaxLength(JobBoard.PostingField field, uint256 max) private {
        vm.assertEq(_maxLength(field), max, "limit constant");
        JobBoard.Posting memory posting = _withFieldLength(_posting(), field, max);
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.JobPosted(1, employer, posting);
        vm.assertEq(_post(employer, posting), 1, "job id");
    }

    function _assertRejectsMaxLengthPlusOne(JobBoard.PostingField field, uint256 max) private {
        JobBoard.Posting memory posting = _withFieldLength(_posting(), field, max + 1);
        vm.expectRevert(_fieldTooLong(field, max + 1, max));
        vm.prank(employer);
        board.postJob(posting);
        vm.assertEq(board.nextJobId(), 1, "no job created");
    }

    // Salary: currency required when either bound is nonzero; min <= max unless max is 0.

    function test_postJob_revertsWhenSalaryMinWithoutCurrency() public {
        _assertSalaryRejected(
            50_000, 0, "", abi.encodeWithSelector(JobBoard.SalaryCurrencyRequired.selector, 50_000, 0)
        );
    }

    function test_postJob_revertsWhenSalaryMaxWithoutCurrency() public {
        _assertSalaryRejected(
            0, 70_000, "", abi.encodeWithSelector(JobBoard.SalaryCurrencyRequired.selector, 0, 70_000)
        );
    }

    function test_postJob_revertsWhenSalaryRangeWithoutCurrency() public {
        _assertSalaryRejected(
            50_000, 70_000, "", abi.encodeWithSelector(JobBoard.SalaryCurrencyRequired.selector, 50_000, 70_000)
        );
    }

    function test_postJob_currencyRuleIsCheckedBeforeRangeRule() public {
        _assertSalaryRejected(9, 8, "", abi.encodeWithSelector(JobBoard.SalaryCurrencyRequired.selector, 9, 8));
    }

    function test_postJob_revertsWhenSalaryRangeInverted() public {
        _assertSalaryRejected(
            80_001, 80_000, "USD", abi.encodeWithSelector(JobBoard.SalaryRangeInverted.selector, 80_001, 80_000)
        );
    }

    function test_postJob_revertsWhenSalaryRangeInvertedAtMaxOne() public {
        _assertSalaryRejected(2, 1, "USD", abi.encodeWithSelector(JobBoard.SalaryRangeInverted.selector, 2, 1));
    }

    function test_postJob_acceptsSalaryMinWithoutMax() public {
        _assertSalaryAccepted(80_000, 0, "USD");
    }

    function test_postJob_acceptsSalaryMaxWithoutMin() public {
        _assertSalaryAccepted(0, 80_000, "USDC");
    }

    function test_postJob_acceptsEqualSalaryBounds() public {
        _assertSalaryAccepted(80_000, 80_000, "EUR");
    }

    function test_postJob_acceptsExtremeSalaryBounds() public {
        _assertSalaryAccepted(1, type(uint64).max, "WEI");
    }

    function test_postJob_acceptsCurrencyWithoutSalary() public {
        _assertSalaryAccepted(0, 0, "USD");
    }

    function test_postJob_acceptsNoSalaryAndNoCurrency() public {
        _assertSalaryAccepted(0, 0, "");
    }

    function _assertSalaryRejected(uint64 min, uint64 max, string memory currency, bytes memory err) private {
        JobBoard.Posting memory posting = _posting();
        posting.salaryMin = min;
        posting.salaryMax = max;
        posting.salaryCurrency = currency;
        vm.expectRevert(err);
        vm.prank(employer);
        board.postJob(posting);
    }

    function _assertSalaryAccepted(uint64 min, uint64 max, string memory currency) private {
        JobBoard.Posting memory posting = _posting();
        posting.salaryMin = min;
        posting.salaryMax = max;
        posting.salaryCurrency = currency;
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.JobPosted(1, employer, posting);
        _post(employer, posting);
    }

    // Deadline: 0 = none, else strictly after block.timestamp.

    function test_postJob_acceptsZeroDeadline() public {
        JobBoard.Posting memory posting = _posting();
        posting.deadline = 0;
        uint256 jobId = _post(employer, posting);
        _assertJob(jobId, employer, 0, false);
    }

    function test_postJob_revertsWhenDeadlineIsNow() public {
        JobBoard.Posting memory posting = _posting();
        posting.deadline = START;
        vm.expectRevert(abi.encodeWithSelector(JobBoard.DeadlineNotInFuture.selector, START, START));
        vm.prank(employer);
        board.postJob(posting);
    }

    function test_postJob_revertsWhenDeadlineInPast() public {
        JobBoard.Posting memory posting = _posting();
        posting.deadline = 1;
        vm.expectRevert(abi.encodeWithSelector(JobBoard.DeadlineNotInFuture.selector, 1, START));
        vm.prank(employer);
        board.postJob(posting);
    }

    function test_postJob_acceptsDeadlineOneSecondAhead() public {
        JobBoard.Posting memory posting = _posting();
        posting.deadline = START + 1;
        uint256 jobId = _post(employer, posting);
        _assertJob(jobId, employer, START + 1, false);
    }

    function test_postJob_acceptsMaxDeadline() public {
        JobBoard.Posting memory posting = _posting();
        posting.deadline = type(uint64).max;
        uint256 jobId = _post(employer, posting);
        _assertJob(jobId, employer, type(uint64).max, false);
    }
}

/// @notice updateJob: the event, the stored deadline, authorization, closed jobs and the same
///         posting rules as postJob.
contract JobBoardUpdateJobTest is JobBoardTestBase {
    uint256 internal jobId;

    function setUp() public override {
        super.setUp();
        jobId = _post();
    }

    function test_updateJob_emitsJobUpdatedWithFullPosting() public {
        JobBoard.Posting memory posting = _otherPosting();
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.JobUpdated(jobId, posting);
        vm.prank(employer);
        board.updateJob(jobId, posting);
    }

    function test_updateJob_storesNewDeadlineAndKeepsEmployer() public {
        vm.prank(employer);
        board.updateJob(jobId, _otherPosting());
        _assertJob(jobId, employer, START + 60 days, false);
    }

    function test_updateJob_canRemoveDeadline() public {
        JobBoard.Posting memory posting = _otherPosting();
        posting.deadline = 0;
        vm.prank(employer);
        board.updateJob(jobId, posting);
        _assertJob(jobId, employer, 0, false);
    }

    function test_updateJob_keepsUnchangedDeadline() public {
        JobBoard.Posting memory posting = _otherPosting();
        posting.deadline = START + 30 days;
        vm.prank(employer);
        board.updateJob(jobId, posting);
        _assertJob(jobId, employer, START + 30 days, false);
    }

    function test_updateJob_mayBeRepeated() public {
        vm.startPrank(employer);
        board.updateJob(jobId, _otherPosting());
        JobBoard.Posting memory posting = _posting();
        posting.deadline = START + 5 days;
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.JobUpdated(jobId, posting);
        board.updateJob(jobId, posting);
        vm.stopPrank();
        _assertJob(jobId, employer, START + 5 days, false);
    }

    function test_updateJob_leavesApplicationsUntouched() public {
        uint256 applicationId = _apply(jobId, applicant);
        vm.prank(employer);
        board.updateJob(jobId, _otherPosting());
        _assertApplication(applicationId, applicant, jobId, SUBMITTED, _hash(jobId, applicant));
        vm.assertEq(board.applicationOf(jobId, applicant), applicationId, "applicationOf");
    }

    function test_updateJob_revertsWhenCallerNotEmployer() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, stranger, employer));
        vm.prank(stranger);
        board.updateJob(jobId, _otherPosting());
        _assertJob(jobId, employer, START + 30 days, false);
    }

    function test_updateJob_revertsWhenCallerIsAnotherEmployer() public {
        _post(otherEmployer, _posting());
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, otherEmployer, employer));
        vm.prank(otherEmployer);
        board.updateJob(jobId, _otherPosting());
    }

    function test_updateJob_checksCallerBeforePosting() public {
        JobBoard.Posting memory posting = _otherPosting();
        posting.title = "";
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, stranger, employer));
        vm.prank(stranger);
        board.updateJob(jobId, posting);
    }

    function test_updateJob_revertsWhenJobIdZero() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobNotFound.selector, 0));
        vm.prank(employer);
        board.updateJob(0, _otherPosting());
    }

    function test_updateJob_revertsWhenJobIdIsNextId() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobNotFound.selector, 2));
        vm.prank(employer);
        board.updateJob(2, _otherPosting());
    }

    function test_updateJob_revertsWhenJobClosed() public {
        vm.prank(employer);
        board.closeJob(jobId);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobAlreadyClosed.selector, jobId));
        vm.prank(employer);
        board.updateJob(jobId, _otherPosting());
        _assertJob(jobId, employer, START + 30 days, true);
    }

    function test_updateJob_revertsOnEmptyTitle() public {
        JobBoard.Posting memory posting = _otherPosting();
        posting.title = "";
        vm.expectRevert(abi.encodeWithSelector(JobBoard.EmptyTitle.selector));
        vm.prank(employer);
        board.updateJob(jobId, posting);
    }

    function test_updateJob_enforcesEveryLengthLimitAtItsEdge() public {
        for (uint8 field; field <= uint8(JobBoard.PostingField.SalaryCurrency); ++field) {
            JobBoard.PostingField f = JobBoard.PostingField(field);
            uint256 max = _maxLength(f);
            JobBoard.Posting memory tooLong = _withFieldLength(_otherPosting(), f, max + 1);
            vm.expectRevert(_fieldTooLong(f, max + 1, max));
            vm.prank(employer);
            board.updateJob(jobId, tooLong);

            JobBoard.Posting memory atMax = _withFieldLength(_otherPosting(), f, max);
            vm.expectEmit(true, true, true, true, address(board));
            emit JobBoard.JobUpdated(jobId, atMax);
            vm.prank(employer);
            board.updateJob(jobId, atMax);
        }
    }

    function test_updateJob_revertsWhenSalaryWithoutCurrency() public {
        JobBoard.Posting memory posting = _otherPosting();
        posting.salaryCurrency = "";
        vm.expectRevert(abi.encodeWithSelector(JobBoard.SalaryCurrencyRequired.selector, 90_000, 0));
        vm.prank(employer);
        board.updateJob(jobId, posting);
    }

    function test_updateJob_revertsWhenSalaryRangeInverted() public {
        JobBoard.Posting memory posting = _otherPosting();
        posting.salaryMax = 89_999;
        vm.expectRevert(abi.encodeWithSelector(JobBoard.SalaryRangeInverted.selector, 90_000, 89_999));
        vm.prank(employer);
        board.updateJob(jobId, posting);
    }

    function test_updateJob_revertsWhenDeadlineIsNow() public {
        vm.warp(START + 1 days);
        JobBoard.Posting memory posting = _otherPosting();
        posting.deadline = START + 1 days;
        vm.expectRevert(abi.encodeWithSelector(JobBoard.DeadlineNotInFuture.selector, START + 1 days, START + 1 days));
        vm.prank(employer);
        board.updateJob(jobId, posting);
        _assertJob(jobId, employer, START + 30 days, false);
    }

    function test_updateJob_expiredJobCannotKeepItsPastDeadline() public {
        vm.warp(START + 31 days);
        JobBoard.Posting memory posting = _otherPosting();
        posting.deadline = START + 30 days;
        vm.expectRevert(abi.encodeWithSelector(JobBoard.DeadlineNotInFuture.selector, START + 30 days, START + 31 days));
        vm.prank(employer);
        board.updateJob(jobId, posting);
    }

    /// Documents current behavior: an expired (not closed) job is not final; updating it with a
    /// new deadline or none makes it take applications again.
    function test_updateJob_reopensExpiredJobWithNewDeadline() public {
        vm.warp(START + 31 days);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobExpired.selector, jobId, START + 30 days, START + 31 days));
        vm.prank(applicant);
        board.applyTo(jobId, _hash(jobId, applicant));

        JobBoard.Posting memory posting = _otherPosting();
        posting.deadline = START + 40 days;
        vm.prank(employer);
        board.updateJob(jobId, posting);
        vm.assertEq(_apply(jobId, applicant), 1, "application to the re-opened job");
    }
}

/// @notice closeJob and what a closed job still allows (status changes, withdrawals) and
///         forbids (applications, updates, closing again).
contract JobBoardCloseJobTest is JobBoardTestBase {
    uint256 internal jobId;

    function setUp() public override {
        super.setUp();
        jobId = _post();
    }

    function _close() internal {
        vm.prank(employer);
        board.closeJob(jobId);
    }

    function test_closeJob_emitsJobClosed() public {
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.JobClosed(jobId);
        _close();
    }

    function test_closeJob_marksClosedAndKeepsEmployerAndDeadline() public {
        _close();
        _assertJob(jobId, employer, START + 30 days, true);
    }

    function test_closeJob_worksAfterDeadline() public {
        vm.warp(START + 365 days);
        _close();
        _assertJob(jobId, employer, START + 30 days, true);
    }

    function test_closeJob_leavesOtherJobsOpen() public {
        uint256 other = _post();
        _close();
        _assertJob(other, employer, START + 30 days, false);
    }

    function test_closeJob_revertsWhenCallerNotEmployer() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, stranger, employer));
        vm.prank(stranger);
        board.closeJob(jobId);
        _assertJob(jobId, employer, START + 30 days, false);
    }

    function test_closeJob_revertsWhenCallerIsApplicant() public {
        _apply(jobId, applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, applicant, employer));
        vm.prank(applicant);
        board.closeJob(jobId);
    }

    function test_closeJob_revertsWhenJobIdZero() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobNotFound.selector, 0));
        vm.prank(employer);
        board.closeJob(0);
    }

    function test_closeJob_revertsWhenJobIdIsNextId() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobNotFound.selector, 2));
        vm.prank(employer);
        board.closeJob(2);
    }

    function test_closeJob_revertsWhenAlreadyClosed() public {
        _close();
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobAlreadyClosed.selector, jobId));
        vm.prank(employer);
        board.closeJob(jobId);
    }

    function test_applyTo_revertsWhenJobClosed() public {
        _close();
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobAlreadyClosed.selector, jobId));
        vm.prank(applicant);
        board.applyTo(jobId, _hash(jobId, applicant));
        vm.assertEq(board.nextApplicationId(), 1, "no application created");
    }

    function test_applyTo_closedIsReportedBeforeExpired() public {
        _close();
        vm.warp(START + 31 days);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobAlreadyClosed.selector, jobId));
        vm.prank(applicant);
        board.applyTo(jobId, _hash(jobId, applicant));
    }

    function test_setApplicationStatus_stillWorksAfterClose() public {
        uint256 applicationId = _apply(jobId, applicant);
        _close();
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(applicationId, jobId, HIRED);
        _setStatus(applicationId, HIRED);
        _assertStatus(applicationId, HIRED);
    }

    function test_setApplicationStatusBatch_stillWorksAfterClose() public {
        uint256 a = _apply(jobId, applicant);
        uint256 b = _apply(jobId, otherApplicant);
        _close();
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, b), REJECTED);
        _assertStatus(a, REJECTED);
        _assertStatus(b, REJECTED);
    }

    function test_withdrawApplication_stillWorksAfterClose() public {
        uint256 applicationId = _apply(jobId, applicant);
        _setStatus(applicationId, SHORTLISTED);
        _close();
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(applicationId, jobId, WITHDRAWN);
        _withdraw(applicationId, applicant);
        _assertStatus(applicationId, WITHDRAWN);
        vm.assertEq(board.applicationOf(jobId, applicant), 0, "applicationOf after withdraw");
    }

    function test_applyTo_reapplyAfterWithdrawOnClosedJobReverts() public {
        uint256 applicationId = _apply(jobId, applicant);
        _close();
        _withdraw(applicationId, applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobAlreadyClosed.selector, jobId));
        vm.prank(applicant);
        board.applyTo(jobId, _hash(jobId, applicant));
    }
}

/// @notice applyTo: the event, the stored application, ids, and every rejection reason.
contract JobBoardApplyToTest is JobBoardTestBase {
    uint256 internal jobId;

    function setUp() public override {
        super.setUp();
        jobId = _post();
    }

    function test_applyTo_emitsApplicationSubmitted() public {
        bytes32 applicationHash = _hash(jobId, applicant);
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationSubmitted(jobId, applicant, 1, applicationHash);
        vm.prank(applicant);
        board.applyTo(jobId, applicationHash);
    }

    function test_applyTo_storesSubmittedApplication() public {
        uint256 applicationId = _apply(jobId, applicant);
        vm.assertEq(applicationId, 1, "first application id");
        _assertApplication(applicationId, applicant, jobId, SUBMITTED, _hash(jobId, applicant));
        vm.assertEq(board.applicationOf(jobId, applicant), applicationId, "applicationOf");
        vm.assertEq(board.nextApplicationId(), 2, "nextApplicationId");
    }

    function test_applyTo_idsAreGlobalAcrossJobs() public {
        uint256 otherJob = _post(otherEmployer, _posting());
        vm.assertEq(_apply(jobId, applicant), 1, "first");
        vm.assertEq(_apply(otherJob, applicant), 2, "same applicant, other job");
        vm.assertEq(_apply(jobId, otherApplicant), 3, "other applicant, same job");
        vm.assertEq(board.applicationOf(jobId, applicant), 1, "applicationOf(job, applicant)");
        vm.assertEq(board.applicationOf(otherJob, applicant), 2, "applicationOf(otherJob, applicant)");
        vm.assertEq(board.applicationOf(jobId, otherApplicant), 3, "applicationOf(job, otherApplicant)");
        vm.assertEq(board.applicationOf(otherJob, otherApplicant), 0, "applicationOf(otherJob, otherApplicant)");
    }

    function test_applyTo_employerMayApplyToAnotherEmployersJob() public {
        uint256 otherJob = _post(otherEmployer, _posting());
        uint256 applicationId = _apply(otherJob, employer);
        _assertApplication(applicationId, employer, otherJob, SUBMITTED, _hash(otherJob, employer));
    }

    function test_applyTo_revertsWhenJobIdZero() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobNotFound.selector, 0));
        vm.prank(applicant);
        board.applyTo(0, _hash(0, applicant));
    }

    function test_applyTo_revertsWhenJobIdIsNextId() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobNotFound.selector, 2));
        vm.prank(applicant);
        board.applyTo(2, _hash(2, applicant));
    }

    function test_applyTo_revertsWhenCallerIsTheEmployer() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.EmployerCannotApply.selector, jobId, employer));
        vm.prank(employer);
        board.applyTo(jobId, _hash(jobId, employer));
        vm.assertEq(board.applicationOf(jobId, employer), 0, "applicationOf");
    }

    function test_applyTo_revertsOnZeroHash() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.ZeroApplicationHash.selector));
        vm.prank(applicant);
        board.applyTo(jobId, bytes32(0));
    }

    function test_applyTo_acceptsAtExactlyTheDeadlineSecond() public {
        vm.warp(START + 30 days);
        uint256 applicationId = _apply(jobId, applicant);
        _assertApplication(applicationId, applicant, jobId, SUBMITTED, _hash(jobId, applicant));
    }

    function test_applyTo_revertsOneSecondAfterTheDeadline() public {
        vm.warp(START + 30 days + 1);
        vm.expectRevert(
            abi.encodeWithSelector(JobBoard.JobExpired.selector, jobId, START + 30 days, START + 30 days + 1)
        );
        vm.prank(applicant);
        board.applyTo(jobId, _hash(jobId, applicant));
    }

    function test_applyTo_jobWithoutDeadlineNeverExpires() public {
        uint256 openEnded = _postOpenEnded(employer);
        vm.warp(type(uint64).max);
        uint256 applicationId = _apply(openEnded, applicant);
        _assertApplication(applicationId, applicant, openEnded, SUBMITTED, _hash(openEnded, applicant));
    }

    function test_applyTo_revertsWhenAlreadyAppliedAndSubmitted() public {
        _assertAlreadyApplied(SUBMITTED);
    }

    function test_applyTo_revertsWhenAlreadyAppliedAndShortlisted() public {
        _assertAlreadyApplied(SHORTLISTED);
    }

    function test_applyTo_revertsWhenAlreadyAppliedAndRejected() public {
        _assertAlreadyApplied(REJECTED);
    }

    function test_applyTo_revertsWhenAlreadyAppliedAndHired() public {
        _assertAlreadyApplied(HIRED);
    }

    function _assertAlreadyApplied(JobBoard.ApplicationStatus status) private {
        uint256 applicationId = _apply(jobId, applicant);
        if (status != SUBMITTED) _setStatus(applicationId, status);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.AlreadyApplied.selector, jobId, applicant, applicationId));
        vm.prank(applicant);
        board.applyTo(jobId, keccak256("a different document"));
        vm.assertEq(board.applicationOf(jobId, applicant), applicationId, "applicationOf");
        vm.assertEq(board.nextApplicationId(), applicationId + 1, "nextApplicationId");
    }

    function test_applyTo_afterWithdrawGivesNewIdAndApplicationOfTracksIt() public {
        uint256 first = _apply(jobId, applicant);
        _apply(jobId, otherApplicant);
        _withdraw(first, applicant);
        vm.assertEq(board.applicationOf(jobId, applicant), 0, "applicationOf after withdraw");

        bytes32 newHash = keccak256("revised CV");
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationSubmitted(jobId, applicant, 3, newHash);
        vm.prank(applicant);
        uint256 second = board.applyTo(jobId, newHash);

        vm.assertEq(second, 3, "new application id");
        vm.assertEq(board.applicationOf(jobId, applicant), second, "applicationOf tracks the live application");
        _assertApplication(first, applicant, jobId, WITHDRAWN, _hash(jobId, applicant));
        _assertApplication(second, applicant, jobId, SUBMITTED, newHash);
    }

    function test_applyTo_withdrawAndReapplyRepeatedly() public {
        for (uint256 round; round < 3; ++round) {
            uint256 id = _apply(jobId, applicant);
            vm.assertEq(id, round + 1, "application id");
            vm.assertEq(board.applicationOf(jobId, applicant), id, "applicationOf");
            _withdraw(id, applicant);
            vm.assertEq(board.applicationOf(jobId, applicant), 0, "applicationOf after withdraw");
        }
    }

    function test_applyTo_sameHashMayBeUsedByDifferentApplications() public {
        bytes32 applicationHash = keccak256("shared");
        vm.prank(applicant);
        uint256 a = board.applyTo(jobId, applicationHash);
        vm.prank(otherApplicant);
        uint256 b = board.applyTo(jobId, applicationHash);
        _assertApplication(a, applicant, jobId, SUBMITTED, applicationHash);
        _assertApplication(b, otherApplicant, jobId, SUBMITTED, applicationHash);
    }
}

/// @notice setApplicationStatus and withdrawApplication: every allowed and every forbidden
///         status transition, and authorization.
contract JobBoardStatusTest is JobBoardTestBase {
    uint256 internal jobId;

    function setUp() public override {
        super.setUp();
        jobId = _postOpenEnded(employer);
    }

    // Allowed employer transitions.

    function test_setApplicationStatus_submittedToShortlisted() public {
        _assertEmployerMoves(SUBMITTED, SHORTLISTED);
    }

    function test_setApplicationStatus_submittedToRejected() public {
        _assertEmployerMoves(SUBMITTED, REJECTED);
    }

    function test_setApplicationStatus_submittedToHired() public {
        _assertEmployerMoves(SUBMITTED, HIRED);
    }

    function test_setApplicationStatus_shortlistedToRejected() public {
        _assertEmployerMoves(SHORTLISTED, REJECTED);
    }

    function test_setApplicationStatus_shortlistedToHired() public {
        _assertEmployerMoves(SHORTLISTED, HIRED);
    }

    function _assertEmployerMoves(JobBoard.ApplicationStatus from, JobBoard.ApplicationStatus to) private {
        uint256 id = _applicationIn(jobId, from);
        address who = board.getApplication(id).applicant;
        bytes32 applicationHash = board.getApplication(id).applicationHash;
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(id, jobId, to);
        _setStatus(id, to);
        _assertApplication(id, who, jobId, to, applicationHash);
        vm.assertEq(board.applicationOf(jobId, who), id, "still the live application");
    }

    // Allowed applicant transitions.

    function test_withdrawApplication_fromSubmitted() public {
        _assertApplicantWithdraws(SUBMITTED);
    }

    function test_withdrawApplication_fromShortlisted() public {
        _assertApplicantWithdraws(SHORTLISTED);
    }

    function _assertApplicantWithdraws(JobBoard.ApplicationStatus from) private {
        uint256 id = _applicationIn(jobId, from);
        address who = board.getApplication(id).applicant;
        bytes32 applicationHash = board.getApplication(id).applicationHash;
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(id, jobId, WITHDRAWN);
        _withdraw(id, who);
        _assertApplication(id, who, jobId, WITHDRAWN, applicationHash);
        vm.assertEq(board.applicationOf(jobId, who), 0, "applicationOf cleared");
    }

    // Forbidden employer transitions.

    function test_setApplicationStatus_revertsWhenSettingSubmitted() public {
        uint256 id = _applicationIn(jobId, SHORTLISTED);
        _assertEmployerCannotSet(id, SUBMITTED);
        _assertStatus(id, SHORTLISTED);
    }

    function test_setApplicationStatus_revertsWhenSettingSubmittedOnSubmitted() public {
        uint256 id = _applicationIn(jobId, SUBMITTED);
        _assertEmployerCannotSet(id, SUBMITTED);
        _assertStatus(id, SUBMITTED);
    }

    function test_setApplicationStatus_revertsWhenSettingWithdrawn() public {
        uint256 id = _applicationIn(jobId, SUBMITTED);
        _assertEmployerCannotSet(id, WITHDRAWN);
        _assertStatus(id, SUBMITTED);
        vm.assertEq(board.applicationOf(jobId, board.getApplication(id).applicant), id, "still live");
    }

    function test_setApplicationStatus_settabilityIsCheckedBeforeExistence() public {
        _assertEmployerCannotSet(999, WITHDRAWN);
    }

    function _assertEmployerCannotSet(uint256 id, JobBoard.ApplicationStatus to) private {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.StatusNotSettableByEmployer.selector, to));
        vm.prank(employer);
        board.setApplicationStatus(id, to);
    }

    function test_setApplicationStatus_revertsOnShortlistedToShortlisted() public {
        _assertInvalidEmployerTransition(SHORTLISTED, SHORTLISTED);
    }

    function test_setApplicationStatus_rejectedIsFinal() public {
        _assertInvalidEmployerTransition(REJECTED, SHORTLISTED);
        _assertInvalidEmployerTransition(REJECTED, REJECTED);
        _assertInvalidEmployerTransition(REJECTED, HIRED);
    }

    function test_setApplicationStatus_hiredIsFinal() public {
        _assertInvalidEmployerTransition(HIRED, SHORTLISTED);
        _assertInvalidEmployerTransition(HIRED, REJECTED);
        _assertInvalidEmployerTransition(HIRED, HIRED);
    }

    function test_setApplicationStatus_withdrawnIsFinal() public {
        _assertInvalidEmployerTransition(WITHDRAWN, SHORTLISTED);
        _assertInvalidEmployerTransition(WITHDRAWN, REJECTED);
        _assertInvalidEmployerTransition(WITHDRAWN, HIRED);
    }

    function test_setApplicationStatus_finalStatusesRejectUnsettableStatuses() public {
        for (uint8 from = uint8(REJECTED); from <= uint8(WITHDRAWN); ++from) {
            uint256 id = _applicationIn(jobId, JobBoard.ApplicationStatus(from));
            _assertEmployerCannotSet(id, SUBMITTED);
            _assertEmployerCannotSet(id, WITHDRAWN);
            _assertStatus(id, JobBoard.ApplicationStatus(from));
        }
    }

    function _assertInvalidEmployerTransition(JobBoard.ApplicationStatus from, JobBoard.ApplicationStatus to) private {
        uint256 id = _applicationIn(jobId, from);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, id, from, to));
        vm.prank(employer);
        board.setApplicationStatus(id, to);
        _assertStatus(id, from);
    }

    // Forbidden applicant transitions.

    function test_withdrawApplication_revertsWhenRejected() public {
        _assertCannotWithdraw(REJECTED);
    }

    function test_withdrawApplication_revertsWhenHired() public {
        _assertCannotWithdraw(HIRED);
    }

    function test_withdrawApplication_revertsWhenAlreadyWithdrawn() public {
        _assertCannotWithdraw(WITHDRAWN);
    }

    function _assertCannotWithdraw(JobBoard.ApplicationStatus from) private {
        uint256 id = _applicationIn(jobId, from);
        address who = board.getApplication(id).applicant;
        vm.expectRevert(abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, id, from, WITHDRAWN));
        _withdraw(id, who);
        _assertStatus(id, from);
    }

    /// The full employer transition table: every (from, to) pair, with the exact outcome.
    function test_setApplicationStatus_fullTransitionTable() public {
        for (uint8 from; from <= uint8(WITHDRAWN); ++from) {
            for (uint8 to; to <= uint8(WITHDRAWN); ++to) {
                JobBoard.ApplicationStatus f = JobBoard.ApplicationStatus(from);
                JobBoard.ApplicationStatus t = JobBoard.ApplicationStatus(to);
                uint256 id = _applicationIn(jobId, f);
                bool allowed = (f == SUBMITTED && (t == SHORTLISTED || t == REJECTED || t == HIRED))
                    || (f == SHORTLISTED && (t == REJECTED || t == HIRED));
                if (allowed) {
                    vm.expectEmit(true, true, true, true, address(board));
                    emit JobBoard.ApplicationStatusChanged(id, jobId, t);
                } else if (t == SUBMITTED || t == WITHDRAWN) {
                    vm.expectRevert(abi.encodeWithSelector(JobBoard.StatusNotSettableByEmployer.selector, t));
                } else {
                    vm.expectRevert(abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, id, f, t));
                }
                vm.prank(employer);
                board.setApplicationStatus(id, t);
                _assertStatus(id, allowed ? t : f);
            }
        }
    }

    // Authorization and existence.

    function test_setApplicationStatus_revertsWhenCallerNotEmployer() public {
        uint256 id = _apply(jobId, applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, stranger, employer));
        vm.prank(stranger);
        board.setApplicationStatus(id, HIRED);
        _assertStatus(id, SUBMITTED);
    }

    function test_setApplicationStatus_revertsWhenCallerIsTheApplicant() public {
        uint256 id = _apply(jobId, applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, applicant, employer));
        vm.prank(applicant);
        board.setApplicationStatus(id, HIRED);
    }

    function test_setApplicationStatus_revertsWhenCallerEmploysAnotherJob() public {
        uint256 id = _apply(jobId, applicant);
        _postOpenEnded(otherEmployer);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, otherEmployer, employer));
        vm.prank(otherEmployer);
        board.setApplicationStatus(id, SHORTLISTED);
    }

    function test_setApplicationStatus_revertsWhenApplicationIdZero() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, 0));
        vm.prank(employer);
        board.setApplicationStatus(0, SHORTLISTED);
    }

    function test_setApplicationStatus_revertsWhenApplicationIdIsNextId() public {
        _apply(jobId, applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, 2));
        vm.prank(employer);
        board.setApplicationStatus(2, SHORTLISTED);
    }

    function test_withdrawApplication_revertsWhenCallerNotApplicant() public {
        uint256 id = _apply(jobId, applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotApplicant.selector, id, stranger, applicant));
        _withdraw(id, stranger);
        _assertStatus(id, SUBMITTED);
    }

    function test_withdrawApplication_revertsWhenCallerIsTheEmployer() public {
        uint256 id = _apply(jobId, applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotApplicant.selector, id, employer, applicant));
        _withdraw(id, employer);
        _assertStatus(id, SUBMITTED);
    }

    function test_withdrawApplication_revertsWhenApplicationIdZero() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, 0));
        _withdraw(0, applicant);
    }

    function test_withdrawApplication_revertsWhenApplicationIdIsNextId() public {
        _apply(jobId, applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, 2));
        _withdraw(2, applicant);
    }

    function test_withdrawApplication_worksAfterJobDeadline() public {
        uint256 deadlineJob = _post();
        uint256 id = _apply(deadlineJob, applicant);
        vm.warp(START + 365 days);
        _withdraw(id, applicant);
        _assertStatus(id, WITHDRAWN);
    }

    function test_withdrawApplication_onlyClearsItsOwnJob() public {
        uint256 otherJob = _postOpenEnded(otherEmployer);
        uint256 a = _apply(jobId, applicant);
        uint256 b = _apply(otherJob, applicant);
        _withdraw(a, applicant);
        vm.assertEq(board.applicationOf(jobId, applicant), 0, "withdrawn job");
        vm.assertEq(board.applicationOf(otherJob, applicant), b, "other job");
    }
}

/// @notice setApplicationStatusBatch: one event per id in order, all or nothing.
contract JobBoardBatchTest is JobBoardTestBase {
    uint256 internal jobId;
    uint256 internal a;
    uint256 internal b;
    uint256 internal c;

    function setUp() public override {
        super.setUp();
        jobId = _postOpenEnded(employer);
        a = _apply(jobId, applicant);
        b = _apply(jobId, otherApplicant);
        c = _apply(jobId, stranger);
    }

    function test_setApplicationStatusBatch_emitsOneEventPerIdInOrder() public {
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(c, jobId, SHORTLISTED);
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(a, jobId, SHORTLISTED);
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(b, jobId, SHORTLISTED);
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(c, a, b), SHORTLISTED);
        _assertStatus(a, SHORTLISTED);
        _assertStatus(b, SHORTLISTED);
        _assertStatus(c, SHORTLISTED);
    }

    function test_setApplicationStatusBatch_emitsExactlyOneEventPerId() public {
        vm.recordLogs();
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(b, a), HIRED);
        vm.assertEq(vm.getRecordedLogs().length, 2, "number of events");
    }

    function test_setApplicationStatusBatch_singleItem() public {
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(b, jobId, REJECTED);
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(b), REJECTED);
        _assertStatus(a, SUBMITTED);
        _assertStatus(b, REJECTED);
    }

    function test_setApplicationStatusBatch_mixesSubmittedAndShortlisted() public {
        _setStatus(b, SHORTLISTED);
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, b), HIRED);
        _assertStatus(a, HIRED);
        _assertStatus(b, HIRED);
    }

    function test_setApplicationStatusBatch_spansJobsOfTheSameEmployer() public {
        uint256 secondJob = _postOpenEnded(employer);
        uint256 d = _apply(secondJob, applicant);
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(a, jobId, REJECTED);
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationStatusChanged(d, secondJob, REJECTED);
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, d), REJECTED);
    }

    function test_setApplicationStatusBatch_revertsOnEmptyBatch() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.EmptyBatch.selector));
        vm.prank(employer);
        board.setApplicationStatusBatch(new uint256[](0), SHORTLISTED);
    }

    function test_setApplicationStatusBatch_emptyBatchIsReportedBeforeStatus() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.EmptyBatch.selector));
        vm.prank(employer);
        board.setApplicationStatusBatch(new uint256[](0), WITHDRAWN);
    }

    function test_setApplicationStatusBatch_revertsWhenSettingSubmitted() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.StatusNotSettableByEmployer.selector, SUBMITTED));
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, b), SUBMITTED);
        _assertUnchanged();
    }

    function test_setApplicationStatusBatch_revertsWhenSettingWithdrawn() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.StatusNotSettableByEmployer.selector, WITHDRAWN));
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, b), WITHDRAWN);
        _assertUnchanged();
    }

    function test_setApplicationStatusBatch_revertsWhenCallerNotEmployer() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, stranger, employer));
        vm.prank(stranger);
        board.setApplicationStatusBatch(_ids(a, b), REJECTED);
        _assertUnchanged();
    }

    function test_setApplicationStatusBatch_revertsWholeWhenLastItemIsFinal() public {
        _setStatus(c, HIRED);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, c, HIRED, REJECTED));
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, b, c), REJECTED);
        _assertStatus(a, SUBMITTED);
        _assertStatus(b, SUBMITTED);
        _assertStatus(c, HIRED);
    }

    function test_setApplicationStatusBatch_revertsWholeWhenAnItemIsWithdrawn() public {
        _withdraw(b, otherApplicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, b, WITHDRAWN, SHORTLISTED));
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, b, c), SHORTLISTED);
        _assertStatus(a, SUBMITTED);
        _assertStatus(b, WITHDRAWN);
        _assertStatus(c, SUBMITTED);
    }

    function test_setApplicationStatusBatch_revertsWholeWhenAnItemIsUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, 4));
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, b, 4), HIRED);
        _assertUnchanged();
    }

    function test_setApplicationStatusBatch_revertsWholeWhenAnItemBelongsToAnotherEmployer() public {
        uint256 foreignJob = _postOpenEnded(otherEmployer);
        uint256 foreign = _apply(foreignJob, applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, foreignJob, employer, otherEmployer));
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, b, foreign), REJECTED);
        _assertUnchanged();
        _assertStatus(foreign, SUBMITTED);
    }

    function test_setApplicationStatusBatch_revertsOnDuplicateId() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, a, REJECTED, REJECTED));
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(a, b, a), REJECTED);
        _assertUnchanged();
    }

    function test_setApplicationStatusBatch_revertsOnDuplicateIdWhenShortlisting() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, b, SHORTLISTED, SHORTLISTED));
        vm.prank(employer);
        board.setApplicationStatusBatch(_ids(b, b), SHORTLISTED);
        _assertUnchanged();
    }

    function _assertUnchanged() private view {
        _assertStatus(a, SUBMITTED);
        _assertStatus(b, SUBMITTED);
        _assertStatus(c, SUBMITTED);
    }
}

/// @notice Views, constants, the fixed interface (selectors and event topics) and id counters.
contract JobBoardViewsTest is JobBoardTestBase {
    function test_constants_haveSpecifiedValues() public view {
        vm.assertEq(board.VERSION(), "1.0.0", "VERSION");
        vm.assertEq(board.APPLICATION_HASH_DOMAIN(), "jobboard.application.v1", "APPLICATION_HASH_DOMAIN");
        vm.assertEq(board.MAX_TITLE_LENGTH(), 200, "MAX_TITLE_LENGTH");
        vm.assertEq(board.MAX_COMPANY_LENGTH(), 100, "MAX_COMPANY_LENGTH");
        vm.assertEq(board.MAX_LOCATION_LENGTH(), 100, "MAX_LOCATION_LENGTH");
        vm.assertEq(board.MAX_TAGS_LENGTH(), 200, "MAX_TAGS_LENGTH");
        vm.assertEq(board.MAX_DESCRIPTION_LENGTH(), 4096, "MAX_DESCRIPTION_LENGTH");
        vm.assertEq(board.MAX_SALARY_CURRENCY_LENGTH(), 12, "MAX_SALARY_CURRENCY_LENGTH");
    }

    function test_counters_startAtOne() public view {
        vm.assertEq(board.nextJobId(), 1, "nextJobId");
        vm.assertEq(board.nextApplicationId(), 1, "nextApplicationId");
    }

    function test_counters_advanceByOnePerEntity() public {
        uint256 jobId = _post();
        _post(otherEmployer, _posting());
        _apply(jobId, applicant);
        vm.assertEq(board.nextJobId(), 3, "nextJobId");
        vm.assertEq(board.nextApplicationId(), 2, "nextApplicationId");
    }

    function test_getJob_revertsForIdZero() public {
        _post();
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobNotFound.selector, 0));
        board.getJob(0);
    }

    function test_getJob_revertsForNextId() public {
        _post();
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobNotFound.selector, 2));
        board.getJob(2);
    }

    function test_getJob_revertsOnEmptyBoard() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.JobNotFound.selector, 1));
        board.getJob(1);
    }

    function test_getApplication_revertsForIdZero() public {
        _apply(_post(), applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, 0));
        board.getApplication(0);
    }

    function test_getApplication_revertsForNextId() public {
        _apply(_post(), applicant);
        vm.expectRevert(abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, 2));
        board.getApplication(2);
    }

    function test_getApplication_revertsOnEmptyBoard() public {
        vm.expectRevert(abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, 1));
        board.getApplication(1);
    }

    function test_applicationOf_isZeroWithoutApplication() public {
        uint256 jobId = _post();
        vm.assertEq(board.applicationOf(jobId, applicant), 0, "existing job");
        vm.assertEq(board.applicationOf(0, applicant), 0, "job 0");
        vm.assertEq(board.applicationOf(99, applicant), 0, "unknown job");
    }

    function test_applicationHashOf_matchesSpecFormula() public {
        bytes32 salt = keccak256("salt");
        bytes32 documentHash = sha256("my CV");
        bytes32 expected = keccak256(
            abi.encode("jobboard.application.v1", block.chainid, address(board), 7, applicant, salt, documentHash)
        );
        vm.assertEq(board.applicationHashOf(7, applicant, salt, documentHash), expected, "applicationHashOf");
        vm.chainId(1);
        vm.assertTrue(board.applicationHashOf(7, applicant, salt, documentHash) != expected, "chain id bound");
    }

    function test_functionSelectors_matchSpec() public pure {
        string memory posting = "(string,string,string,string,string,string,uint64,uint64,uint64)";
        _assertSelector(JobBoard.postJob.selector, string.concat("postJob(", posting, ")"));
        _assertSelector(JobBoard.updateJob.selector, string.concat("updateJob(uint256,", posting, ")"));
        _assertSelector(JobBoard.closeJob.selector, "closeJob(uint256)");
        _assertSelector(JobBoard.applyTo.selector, "applyTo(uint256,bytes32)");
        _assertSelector(JobBoard.withdrawApplication.selector, "withdrawApplication(uint256)");
        _assertSelector(JobBoard.setApplicationStatus.selector, "setApplicationStatus(uint256,uint8)");
        _assertSelector(JobBoard.setApplicationStatusBatch.selector, "setApplicationStatusBatch(uint256[],uint8)");
        _assertSelector(JobBoard.applicationHashOf.selector, "applicationHashOf(uint256,address,bytes32,bytes32)");
    }

    function _assertSelector(bytes4 actual, string memory signature) private pure {
        vm.assertEq(bytes32(actual), bytes32(bytes4(keccak256(bytes(signature)))), signature);
    }

    function test_eventTopics_matchSpec() public pure {
        string memory posting = "(string,string,string,string,string,string,uint64,uint64,uint64)";
        vm.assertEq(
            JobBoard.JobPosted.selector,
            keccak256(bytes(string.concat("JobPosted(uint256,address,", posting, ")"))),
            "JobPosted"
        );
        vm.assertEq(
            JobBoard.JobUpdated.selector,
            keccak256(bytes(string.concat("JobUpdated(uint256,", posting, ")"))),
            "JobUpdated"
        );
        vm.assertEq(JobBoard.JobClosed.selector, keccak256("JobClosed(uint256)"), "JobClosed");
        vm.assertEq(
            JobBoard.ApplicationSubmitted.selector,
            keccak256("ApplicationSubmitted(uint256,address,uint256,bytes32)"),
            "ApplicationSubmitted"
        );
        vm.assertEq(
            JobBoard.ApplicationStatusChanged.selector,
            keccak256("ApplicationStatusChanged(uint256,uint256,uint8)"),
            "ApplicationStatusChanged"
        );
    }

    function test_everyMutationEmitsExactlyOneEventPerEntity() public {
        vm.recordLogs();
        uint256 jobId = _post();
        vm.assertEq(vm.getRecordedLogs().length, 1, "postJob");
        vm.prank(employer);
        board.updateJob(jobId, _otherPosting());
        vm.assertEq(vm.getRecordedLogs().length, 1, "updateJob");
        uint256 id = _apply(jobId, applicant);
        vm.assertEq(vm.getRecordedLogs().length, 1, "applyTo");
        _setStatus(id, SHORTLISTED);
        vm.assertEq(vm.getRecordedLogs().length, 1, "setApplicationStatus");
        _withdraw(id, applicant);
        vm.assertEq(vm.getRecordedLogs().length, 1, "withdrawApplication");
        vm.prank(employer);
        board.closeJob(jobId);
        vm.assertEq(vm.getRecordedLogs().length, 1, "closeJob");
    }
}
