// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Over 600 lines: the fuzz actions and the event-built model they feed are one piece (every
// action records its logs into the model the invariant test compares).

import {Vm} from "../utils/Test.sol";
import {JobBoard} from "../../src/JobBoard.sol";

/// @notice The invariant tests' only fuzz target. It acts as a small fixed set of actors (each may
///         post jobs and apply to other actors' jobs), shapes fuzz input into mostly valid
///         actions, and also tries a few forbidden actions that must revert with an exact error.
///         Around every call it records the logs and replays each event the board emitted into a
///         model of the board's state that is built ONLY from decoded events; the invariant test
///         compares that model with the board's views.
/// @dev Forge's `recordLogs` also captures logs of frames that later reverted (a batch emits an
///      event per item before a later item fails), so logs of a reverted call are dropped.
contract JobBoardHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    // The fixed event signatures of the spec (deliberately not taken from the contract's ABI).
    bytes32 internal constant JOB_POSTED =
        keccak256("JobPosted(uint256,address,(string,string,string,string,string,string,uint64,uint64,uint64))");
    bytes32 internal constant JOB_UPDATED =
        keccak256("JobUpdated(uint256,(string,string,string,string,string,string,uint64,uint64,uint64))");
    bytes32 internal constant JOB_CLOSED = keccak256("JobClosed(uint256)");
    bytes32 internal constant APPLICATION_SUBMITTED =
        keccak256("ApplicationSubmitted(uint256,address,uint256,bytes32)");
    bytes32 internal constant APPLICATION_STATUS_CHANGED = keccak256("ApplicationStatusChanged(uint256,uint256,uint8)");

    uint8 internal constant SUBMITTED = 0;
    uint8 internal constant SHORTLISTED = 1;
    uint8 internal constant REJECTED = 2;
    uint8 internal constant HIRED = 3;
    uint8 internal constant WITHDRAWN = 4;

    uint256 internal constant ACTOR_COUNT = 5;
    uint256 internal constant MAX_BATCH = 5;

    /// @dev A job as known from JobPosted / JobUpdated / JobClosed.
    struct ModelJob {
        address employer;
        uint64 deadline;
        bool closed;
    }

    /// @dev An application as known from ApplicationSubmitted / ApplicationStatusChanged.
    struct ModelApplication {
        address applicant;
        uint256 jobId;
        uint8 status;
        bytes32 applicationHash;
        bool everShortlisted;
    }

    JobBoard public board;
    address[] internal _actors;

    // ---- The model, written only by `_replay` from decoded events.
    mapping(uint256 jobId => ModelJob) internal _jobs;
    mapping(uint256 applicationId => ModelApplication) internal _applications;
    mapping(uint256 jobId => mapping(address applicant => uint256 applicationId)) internal _live;
    uint256 public jobPostedEvents;
    uint256 public jobUpdatedEvents;
    uint256 public jobClosedEvents;
    uint256 public applicationSubmittedEvents;
    uint256 public statusChangedEvents;
    uint256[5] internal _statusEventsTo;

    // ---- Problems found while replaying or acting; every counter must stay zero.
    uint256 public finalStatusChanges;
    uint256 public problems;
    string public firstProblem;

    // ---- What the handler's own calls lead it to expect (independent of events).
    uint256 public unexpectedReverts;
    uint256 public unexpectedSuccesses;
    uint256 public wrongRevertReasons;
    uint256 public successfulPosts;
    uint256 public successfulCloses;
    uint256 public successfulApplies;
    uint256 public expectedStatusEvents;
    uint256 public forbiddenAttempts;
    bytes32 internal _sentPosting;

    constructor(JobBoard board_) {
        board = board_;
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            address actor = vm.addr(0xA11CE + i);
            vm.label(actor, string.concat("actor", vm.toString(i)));
            _actors.push(actor);
        }
    }

    // =========================================================================== actions

    function postJob(uint256 actorSeed, uint256 postingSeed) external {
        address employer = _actor(actorSeed);
        JobBoard.Posting memory posting = _posting(postingSeed);
        _sentPosting = keccak256(abi.encode(posting));
        vm.recordLogs();
        vm.prank(employer);
        try board.postJob(posting) returns (uint256 jobId) {
            _replay();
            successfulPosts++;
            if (jobId != jobPostedEvents || _jobs[jobId].employer != employer) _problem("postJob: id or employer");
        } catch {
            _unexpectedRevert("postJob");
        }
    }

    function updateJob(uint256 jobSeed, uint256 postingSeed) external {
        uint256 jobId = _findOpenJob(jobSeed);
        if (jobId == 0) return;
        JobBoard.Posting memory posting = _posting(postingSeed);
        _sentPosting = keccak256(abi.encode(posting));
        vm.recordLogs();
        vm.prank(_jobs[jobId].employer);
        try board.updateJob(jobId, posting) {
            _replay();
            if (_jobs[jobId].deadline != posting.deadline) _problem("updateJob: deadline");
        } catch {
            _unexpectedRevert("updateJob");
        }
    }

    function closeJob(uint256 jobSeed) external {
        // Keep a few jobs open so that applications stay possible.
        if (_openJobCount() <= 2) return;
        uint256 jobId = _findOpenJob(jobSeed);
        vm.recordLogs();
        vm.prank(_jobs[jobId].employer);
        try board.closeJob(jobId) {
            _replay();
            successfulCloses++;
            if (!_jobs[jobId].closed) _problem("closeJob: not closed");
        } catch {
            _unexpectedRevert("closeJob");
        }
    }

    function applyTo(uint256 actorSeed, uint256 jobSeed, bytes32 salt, bytes32 documentHash) external {
        (address applicant, uint256 jobId) = _findApplicableJob(actorSeed, jobSeed);
        if (jobId == 0) return;
        bytes32 applicationHash = keccak256(
            abi.encode("jobboard.application.v1", block.chainid, address(board), jobId, applicant, salt, documentHash)
        );
        vm.recordLogs();
        vm.prank(applicant);
        try board.applyTo(jobId, applicationHash) returns (uint256 applicationId) {
            _replay();
            successfulApplies++;
            ModelApplication storage application = _applications[applicationId];
            if (
                applicationId != applicationSubmittedEvents || application.applicant != applicant
                    || application.jobId != jobId || application.applicationHash != applicationHash
            ) _problem("applyTo: id, applicant, job or hash");
        } catch {
            _unexpectedRevert("applyTo");
        }
    }

    function withdrawApplication(uint256 applicationSeed) external {
        uint256 applicationId = _findApplication(applicationSeed, false);
        if (applicationId == 0) return;
        vm.recordLogs();
        vm.prank(_applications[applicationId].applicant);
        try board.withdrawApplication(applicationId) {
            _replay();
            expectedStatusEvents++;
            if (_applications[applicationId].status != WITHDRAWN) _problem("withdraw: status");
        } catch {
            _unexpectedRevert("withdrawApplication");
        }
    }

    function setApplicationStatus(uint256 applicationSeed, uint256 statusSeed) external {
        uint256 applicationId = _findApplication(applicationSeed, false);
        if (applicationId == 0) return;
        ModelApplication storage application = _applications[applicationId];
        uint8 target = application.status == SUBMITTED ? _target(statusSeed) : _decision(statusSeed);
        vm.recordLogs();
        vm.prank(_jobs[application.jobId].employer);
        try board.setApplicationStatus(applicationId, JobBoard.ApplicationStatus(target)) {
            _replay();
            expectedStatusEvents++;
            if (application.status != target) _problem("setApplicationStatus: status");
        } catch {
            _unexpectedRevert("setApplicationStatus");
        }
    }

    function setApplicationStatusBatch(uint256 applicationSeed, uint256 sizeSeed, uint256 statusSeed) external {
        uint8 target = _target(statusSeed);
        uint256[] memory ids = _findBatch(applicationSeed, 1 + sizeSeed % MAX_BATCH, target);
        if (ids.length == 0) return;
        vm.recordLogs();
        vm.prank(_jobs[_applications[ids[0]].jobId].employer);
        try board.setApplicationStatusBatch(ids, JobBoard.ApplicationStatus(target)) {
            _replay();
            expectedStatusEvents += ids.length;
            for (uint256 i; i < ids.length; ++i) {
                if (_applications[ids[i]].status != target) _problem("batch: status");
            }
        } catch {
            _unexpectedRevert("setApplicationStatusBatch");
        }
    }

    function warp(uint256 secondsSeed) external {
        vm.warp(block.timestamp + 1 minutes + secondsSeed % 12 hours);
    }

    /// @notice Tries one action the rules forbid; it must revert with exactly the expected error.
    function attemptForbiddenAction(uint256 kindSeed, uint256 pickSeed, uint256 statusSeed) external {
        uint256 kind = kindSeed % 9;
        if (kind == 0) {
            // The employer changes a final application's status.
            uint256 applicationId = _findApplication(pickSeed, true);
            if (applicationId == 0) return;
            ModelApplication storage application = _applications[applicationId];
            uint8 target = _target(statusSeed);
            _expectRevert(
                _jobs[application.jobId].employer,
                abi.encodeCall(board.setApplicationStatus, (applicationId, JobBoard.ApplicationStatus(target))),
                abi.encodeWithSelector(
                    JobBoard.InvalidStatusTransition.selector, applicationId, application.status, target
                )
            );
        } else if (kind == 1) {
            // The applicant withdraws a final application.
            uint256 applicationId = _findApplication(pickSeed, true);
            if (applicationId == 0) return;
            ModelApplication storage application = _applications[applicationId];
            _expectRevert(
                application.applicant,
                abi.encodeCall(board.withdrawApplication, (applicationId)),
                abi.encodeWithSelector(
                    JobBoard.InvalidStatusTransition.selector, applicationId, application.status, WITHDRAWN
                )
            );
        } else if (kind == 2) {
            // An applicant applies again while their application (live, maybe decided) exists.
            uint256 applicationId = _findLiveApplication(pickSeed);
            if (applicationId == 0) return;
            ModelApplication storage application = _applications[applicationId];
            if (_jobs[application.jobId].closed || _expired(application.jobId)) return;
            _expectRevert(
                application.applicant,
                abi.encodeCall(board.applyTo, (application.jobId, keccak256("again"))),
                abi.encodeWithSelector(
                    JobBoard.AlreadyApplied.selector, application.jobId, application.applicant, applicationId
                )
            );
        } else if (kind == 3) {
            // Anyone applies to a closed job.
            uint256 jobId = _findJob(pickSeed, true);
            if (jobId == 0) return;
            _expectRevert(
                _actor(statusSeed),
                abi.encodeCall(board.applyTo, (jobId, keccak256("late"))),
                abi.encodeWithSelector(JobBoard.JobAlreadyClosed.selector, jobId)
            );
        } else if (kind == 4) {
            // Another actor closes an open job.
            uint256 jobId = _findOpenJob(pickSeed);
            if (jobId == 0) return;
            address employer = _jobs[jobId].employer;
            address caller = _actor(statusSeed);
            if (caller == employer) caller = _actor(statusSeed % ACTOR_COUNT + 1);
            _expectRevert(
                caller,
                abi.encodeCall(board.closeJob, (jobId)),
                abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, caller, employer)
            );
        } else if (kind == 5) {
            // The employer applies to their own open, unexpired job.
            uint256 jobId = _findOpenJob(pickSeed);
            if (jobId == 0 || _expired(jobId)) return;
            address employer = _jobs[jobId].employer;
            _expectRevert(
                employer,
                abi.encodeCall(board.applyTo, (jobId, keccak256("own job"))),
                abi.encodeWithSelector(JobBoard.EmployerCannotApply.selector, jobId, employer)
            );
        } else if (kind == 6) {
            // Anyone applies to an open job whose deadline has passed.
            uint256 jobId = _findExpiredOpenJob(pickSeed);
            if (jobId == 0) return;
            _expectRevert(
                _actor(statusSeed),
                abi.encodeCall(board.applyTo, (jobId, keccak256("too late"))),
                abi.encodeWithSelector(JobBoard.JobExpired.selector, jobId, _jobs[jobId].deadline, block.timestamp)
            );
        } else if (kind == 7) {
            // The employer re-shortlists a Shortlisted application, or sets Submitted / Withdrawn.
            uint256 applicationId = _findApplication(pickSeed, false);
            if (applicationId == 0) return;
            ModelApplication storage application = _applications[applicationId];
            bool reshortlist = application.status == SHORTLISTED && statusSeed % 3 == 0;
            uint8 target = reshortlist ? SHORTLISTED : (statusSeed % 2 == 0 ? SUBMITTED : WITHDRAWN);
            _expectRevert(
                _jobs[application.jobId].employer,
                abi.encodeCall(board.setApplicationStatus, (applicationId, JobBoard.ApplicationStatus(target))),
                reshortlist
                    ? abi.encodeWithSelector(
                        JobBoard.InvalidStatusTransition.selector, applicationId, SHORTLISTED, SHORTLISTED
                    )
                    : abi.encodeWithSelector(JobBoard.StatusNotSettableByEmployer.selector, target)
            );
        } else {
            // A batch of valid items followed by a final one: the whole batch must revert.
            uint8 target = _target(statusSeed);
            uint256[] memory valid = _findBatch(pickSeed, MAX_BATCH - 1, target);
            if (valid.length == 0) return;
            address employer = _jobs[_applications[valid[0]].jobId].employer;
            uint256 finalId = _findFinalApplicationOf(employer, pickSeed);
            if (finalId == 0) return;
            uint256[] memory ids = new uint256[](valid.length + 1);
            for (uint256 i; i < valid.length; ++i) {
                ids[i] = valid[i];
            }
            ids[valid.length] = finalId;
            _expectRevert(
                employer,
                abi.encodeCall(board.setApplicationStatusBatch, (ids, JobBoard.ApplicationStatus(target))),
                abi.encodeWithSelector(
                    JobBoard.InvalidStatusTransition.selector, finalId, _applications[finalId].status, target
                )
            );
        }
    }

    // =========================================================================== replay

    /// @dev Replays every log recorded since the last `recordLogs` into the model.
    function _replay() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            _replayLog(logs[i]);
        }
    }

    function _replayLog(Vm.Log memory log) internal {
        if (log.emitter != address(board)) return _problem("event from another emitter");
        bytes32[] memory topics = log.topics;
        if (topics.length == 0) return _problem("anonymous event");
        bytes32 signature = topics[0];
        if (signature == JOB_POSTED) _onJobPosted(topics, log.data);
        else if (signature == JOB_UPDATED) _onJobUpdated(topics, log.data);
        else if (signature == JOB_CLOSED) _onJobClosed(topics, log.data);
        else if (signature == APPLICATION_SUBMITTED) _onApplicationSubmitted(topics, log.data);
        else if (signature == APPLICATION_STATUS_CHANGED) _onApplicationStatusChanged(topics, log.data);
        else _problem("unknown event");
    }

    function _onJobPosted(bytes32[] memory topics, bytes memory data) internal {
        if (topics.length != 3) return _problem("JobPosted: topics");
        uint256 jobId = uint256(topics[1]);
        address employer = _topicAddress(topics[2]);
        JobBoard.Posting memory posting = abi.decode(data, (JobBoard.Posting));
        if (jobId != jobPostedEvents + 1) _problem("JobPosted: id out of sequence");
        if (employer == address(0)) _problem("JobPosted: zero employer");
        if (keccak256(abi.encode(posting)) != _sentPosting) _problem("JobPosted: posting differs from input");
        jobPostedEvents++;
        _jobs[jobId] = ModelJob({employer: employer, deadline: posting.deadline, closed: false});
    }

    function _onJobUpdated(bytes32[] memory topics, bytes memory data) internal {
        if (topics.length != 2) return _problem("JobUpdated: topics");
        uint256 jobId = uint256(topics[1]);
        JobBoard.Posting memory posting = abi.decode(data, (JobBoard.Posting));
        if (!_jobExists(jobId) || _jobs[jobId].closed) _problem("JobUpdated: unknown or closed job");
        if (keccak256(abi.encode(posting)) != _sentPosting) _problem("JobUpdated: posting differs from input");
        jobUpdatedEvents++;
        _jobs[jobId].deadline = posting.deadline;
    }

    function _onJobClosed(bytes32[] memory topics, bytes memory data) internal {
        if (topics.length != 2 || data.length != 0) return _problem("JobClosed: shape");
        uint256 jobId = uint256(topics[1]);
        if (!_jobExists(jobId) || _jobs[jobId].closed) _problem("JobClosed: unknown or closed job");
        jobClosedEvents++;
        _jobs[jobId].closed = true;
    }

    function _onApplicationSubmitted(bytes32[] memory topics, bytes memory data) internal {
        if (topics.length != 4 || data.length != 32) return _problem("ApplicationSubmitted: shape");
        uint256 jobId = uint256(topics[1]);
        address applicant = _topicAddress(topics[2]);
        uint256 applicationId = uint256(topics[3]);
        bytes32 applicationHash = abi.decode(data, (bytes32));
        if (applicationId != applicationSubmittedEvents + 1) _problem("ApplicationSubmitted: id out of sequence");
        if (!_jobExists(jobId) || _jobs[jobId].closed) _problem("ApplicationSubmitted: unknown or closed job");
        if (_expired(jobId)) _problem("ApplicationSubmitted: expired job");
        if (applicant == address(0) || applicant == _jobs[jobId].employer) _problem("ApplicationSubmitted: applicant");
        if (applicationHash == bytes32(0)) _problem("ApplicationSubmitted: zero hash");
        if (_live[jobId][applicant] != 0) _problem("ApplicationSubmitted: second live application");
        applicationSubmittedEvents++;
        _applications[applicationId] = ModelApplication({
            applicant: applicant,
            jobId: jobId,
            status: SUBMITTED,
            applicationHash: applicationHash,
            everShortlisted: false
        });
        _live[jobId][applicant] = applicationId;
    }

    function _onApplicationStatusChanged(bytes32[] memory topics, bytes memory data) internal {
        if (topics.length != 3 || data.length != 32) return _problem("ApplicationStatusChanged: shape");
        uint256 applicationId = uint256(topics[1]);
        uint256 jobId = uint256(topics[2]);
        uint256 to = abi.decode(data, (uint256));
        if (to > WITHDRAWN) return _problem("ApplicationStatusChanged: status out of range");
        ModelApplication storage application = _applications[applicationId];
        if (application.applicant == address(0)) return _problem("ApplicationStatusChanged: unknown application");
        if (application.jobId != jobId) _problem("ApplicationStatusChanged: job id");
        uint8 from = application.status;
        if (_isFinal(from)) {
            finalStatusChanges++;
            _problem("ApplicationStatusChanged: final status changed");
        }
        bool legal = (from == SUBMITTED && to != SUBMITTED) || (from == SHORTLISTED && to >= REJECTED);
        if (!legal) _problem("ApplicationStatusChanged: illegal transition");
        // casting to 'uint8' is safe because `to` was checked to be at most WITHDRAWN (4).
        // forge-lint: disable-next-line(unsafe-typecast)
        application.status = uint8(to);
        if (to == SHORTLISTED) application.everShortlisted = true;
        if (to == WITHDRAWN) {
            if (_live[jobId][application.applicant] != applicationId) _problem("withdrawn application was not live");
            delete _live[jobId][application.applicant];
        }
        statusChangedEvents++;
        _statusEventsTo[to]++;
    }

    // =========================================================================== helpers

    function _expectRevert(address caller, bytes memory callData, bytes memory expected) internal {
        forbiddenAttempts++;
        vm.recordLogs();
        vm.prank(caller);
        (bool ok, bytes memory reason) = address(board).call(callData);
        if (ok) {
            unexpectedSuccesses++;
            _problem("forbidden action succeeded");
            _replay();
        } else {
            vm.getRecordedLogs();
            if (keccak256(reason) != keccak256(expected)) {
                wrongRevertReasons++;
                _problem("forbidden action reverted with another error");
            }
        }
    }

    function _unexpectedRevert(string memory action) internal {
        // Drop the logs of the reverted call: they never happened on chain.
        vm.getRecordedLogs();
        unexpectedReverts++;
        _problem(string.concat(action, " reverted"));
    }

    function _problem(string memory what) internal {
        problems++;
        if (bytes(firstProblem).length == 0) firstProblem = what;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % ACTOR_COUNT];
    }

    function _posting(uint256 seed) internal view returns (JobBoard.Posting memory posting) {
        posting.title = string.concat("Job ", vm.toString(seed % 1000));
        posting.company = seed % 2 == 0 ? "Acme" : "";
        posting.location = seed % 3 == 0 ? "Remote" : "Lisbon";
        posting.tags = "solidity,evm";
        posting.description = string.concat("## Role\n", vm.toString(seed));
        uint256 salaryMode = (seed >> 8) % 4;
        if (salaryMode != 0) {
            posting.salaryCurrency = "USD";
            posting.salaryMin = salaryMode == 2 ? 0 : 50_000;
            posting.salaryMax = salaryMode == 1 ? 0 : 90_000;
        }
        uint256 deadlineMode = (seed >> 16) % 3;
        if (deadlineMode != 0) posting.deadline = _uint64(block.timestamp + 1 + (seed >> 24) % 3 days);
    }

    function _uint64(uint256 value) internal pure returns (uint64) {
        require(value <= type(uint64).max, "uint64");
        // casting to 'uint64' is safe because of the check above.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(value);
    }

    function _topicAddress(bytes32 topic) internal returns (address) {
        if (uint256(topic) >> 160 != 0) _problem("address topic has dirty upper bits");
        // casting to 'uint160' is safe because the upper bits were checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(uint256(topic)));
    }

    function _isFinal(uint8 status) internal pure returns (bool) {
        return status == REJECTED || status == HIRED || status == WITHDRAWN;
    }

    function _jobExists(uint256 jobId) internal view returns (bool) {
        return jobId != 0 && jobId <= jobPostedEvents;
    }

    function _expired(uint256 jobId) internal view returns (bool) {
        uint64 deadline = _jobs[jobId].deadline;
        // The model mirrors the board's rule; the test controls the timestamp.
        // forge-lint: disable-next-line(block-timestamp)
        return deadline != 0 && block.timestamp > deadline;
    }

    /// @dev A job with the given closed flag, searching from `seed`; 0 if none.
    function _findJob(uint256 seed, bool closed) internal view returns (uint256) {
        uint256 count = jobPostedEvents;
        for (uint256 k; k < count; ++k) {
            uint256 jobId = (seed % count + k) % count + 1;
            if (_jobs[jobId].closed == closed) return jobId;
        }
        return 0;
    }

    function _findOpenJob(uint256 seed) internal view returns (uint256) {
        return _findJob(seed, false);
    }

    function _findExpiredOpenJob(uint256 seed) internal view returns (uint256) {
        uint256 count = jobPostedEvents;
        for (uint256 k; k < count; ++k) {
            uint256 jobId = (seed % count + k) % count + 1;
            if (!_jobs[jobId].closed && _expired(jobId)) return jobId;
        }
        return 0;
    }

    function _openJobCount() internal view returns (uint256 open) {
        for (uint256 jobId = 1; jobId <= jobPostedEvents; ++jobId) {
            if (!_jobs[jobId].closed) open++;
        }
    }

    /// @dev An (actor, job) pair for which `applyTo` must succeed; (_, 0) if none.
    function _findApplicableJob(uint256 actorSeed, uint256 jobSeed) internal view returns (address, uint256) {
        uint256 count = jobPostedEvents;
        for (uint256 a; a < ACTOR_COUNT; ++a) {
            address actor = _actor(actorSeed % ACTOR_COUNT + a);
            for (uint256 k; k < count; ++k) {
                uint256 jobId = (jobSeed % count + k) % count + 1;
                ModelJob storage job = _jobs[jobId];
                if (!job.closed && !_expired(jobId) && job.employer != actor && _live[jobId][actor] == 0) {
                    return (actor, jobId);
                }
            }
        }
        return (address(0), 0);
    }

    /// @dev An application that is final (`final_`) or still undecided, from `seed`; 0 if none.
    function _findApplication(uint256 seed, bool final_) internal view returns (uint256) {
        uint256 count = applicationSubmittedEvents;
        for (uint256 k; k < count; ++k) {
            uint256 applicationId = (seed % count + k) % count + 1;
            if (_isFinal(_applications[applicationId].status) == final_) return applicationId;
        }
        return 0;
    }

    /// @dev A live (not withdrawn) application, from `seed`; 0 if none.
    function _findLiveApplication(uint256 seed) internal view returns (uint256) {
        uint256 count = applicationSubmittedEvents;
        for (uint256 k; k < count; ++k) {
            uint256 applicationId = (seed % count + k) % count + 1;
            if (_applications[applicationId].status != WITHDRAWN) return applicationId;
        }
        return 0;
    }

    function _findFinalApplicationOf(address employer, uint256 seed) internal view returns (uint256) {
        uint256 count = applicationSubmittedEvents;
        for (uint256 k; k < count; ++k) {
            uint256 applicationId = (seed % count + k) % count + 1;
            ModelApplication storage application = _applications[applicationId];
            if (_isFinal(application.status) && _jobs[application.jobId].employer == employer) return applicationId;
        }
        return 0;
    }

    /// @dev Any status an employer may set: Shortlisted, Rejected or Hired.
    function _target(uint256 seed) internal pure returns (uint8) {
        uint8[3] memory targets = [SHORTLISTED, REJECTED, HIRED];
        return targets[seed % 3];
    }

    /// @dev A final decision: Rejected or Hired.
    function _decision(uint256 seed) internal pure returns (uint8) {
        return seed % 2 == 0 ? REJECTED : HIRED;
    }

    function _mayBecome(uint8 from, uint8 target) internal pure returns (bool) {
        return from == SUBMITTED || (from == SHORTLISTED && target != SHORTLISTED);
    }

    /// @dev Up to `size` distinct applications of one employer's jobs that may all move to
    ///      `target`, starting from `seed`; empty if none.
    function _findBatch(uint256 seed, uint256 size, uint8 target) internal view returns (uint256[] memory ids) {
        uint256 count = applicationSubmittedEvents;
        ids = new uint256[](size);
        uint256 found;
        address employer;
        for (uint256 k; k < count && found < size; ++k) {
            uint256 applicationId = (seed % count + k) % count + 1;
            ModelApplication storage application = _applications[applicationId];
            if (!_mayBecome(application.status, target)) continue;
            address jobEmployer = _jobs[application.jobId].employer;
            if (found == 0) employer = jobEmployer;
            else if (jobEmployer != employer) continue;
            ids[found++] = applicationId;
        }
        assembly ("memory-safe") {
            mstore(ids, found)
        }
    }

    // =========================================================================== model views

    function actorCount() external pure returns (uint256) {
        return ACTOR_COUNT;
    }

    function actorAt(uint256 index) external view returns (address) {
        return _actors[index];
    }

    function modelJob(uint256 jobId) external view returns (ModelJob memory) {
        return _jobs[jobId];
    }

    function modelApplication(uint256 applicationId) external view returns (ModelApplication memory) {
        return _applications[applicationId];
    }

    function modelLiveApplication(uint256 jobId, address applicant) external view returns (uint256) {
        return _live[jobId][applicant];
    }

    function statusEventsTo(uint8 status) external view returns (uint256) {
        return _statusEventsTo[status];
    }
}
