// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "./utils/Test.sol";
import {JobBoard} from "../src/JobBoard.sol";
import {JobBoardTestBase} from "./JobBoard.t.sol";

/// @notice Fuzz tests of the posting rules against a reference validator written here, of the
///         deadline boundary, of the status machine against a reference transition table, of
///         batches, and of the application-hash scheme.
contract JobBoardFuzzTest is JobBoardTestBase {
    /// @dev Raw fuzz input for one posting; lengths and values are shaped by the tests.
    struct PostingInput {
        uint256 titleLength;
        uint256 companyLength;
        uint256 locationLength;
        uint256 tagsLength;
        uint256 descriptionLength;
        uint256 currencyLength;
        uint64 salaryMin;
        uint64 salaryMax;
        uint64 deadline;
        bytes32 seed;
    }

    uint256 private constant MAX_TIMESTAMP = 2 ** 40;

    // ------------------------------------------------------------------ posting helpers

    function _toUint64(uint256 value) internal pure returns (uint64) {
        require(value <= type(uint64).max, "does not fit uint64");
        // casting to 'uint64' is safe because of the check above.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(value);
    }

    /// @dev `length` pseudo-random bytes (any byte value: strings are not UTF-8 checked).
    function _randomBytes(bytes32 seed, uint256 salt, uint256 length) internal pure returns (string memory) {
        bytes memory out = new bytes(length);
        for (uint256 i; i < length; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, salt, i));
            for (uint256 j; j < 32 && i + j < length; ++j) {
                out[i + j] = word[j];
            }
        }
        return string(out);
    }

    function _build(PostingInput memory input) internal pure returns (JobBoard.Posting memory posting) {
        posting.title = _randomBytes(input.seed, 0, input.titleLength);
        posting.company = _randomBytes(input.seed, 1, input.companyLength);
        posting.location = _randomBytes(input.seed, 2, input.locationLength);
        posting.tags = _randomBytes(input.seed, 3, input.tagsLength);
        posting.description = _randomBytes(input.seed, 4, input.descriptionLength);
        posting.salaryCurrency = _randomBytes(input.seed, 5, input.currencyLength);
        posting.salaryMin = input.salaryMin;
        posting.salaryMax = input.salaryMax;
        posting.deadline = input.deadline;
    }

    /// @dev Shapes `input` into a posting that satisfies every rule at time `now`.
    function _validInput(PostingInput memory input, uint256 now_) internal pure returns (PostingInput memory) {
        input.titleLength = bound(input.titleLength, 1, 200);
        input.companyLength = bound(input.companyLength, 0, 100);
        input.locationLength = bound(input.locationLength, 0, 100);
        input.tagsLength = bound(input.tagsLength, 0, 200);
        input.descriptionLength = bound(input.descriptionLength, 0, 4096);
        bool hasSalary = input.salaryMin != 0 || input.salaryMax != 0;
        input.currencyLength = bound(input.currencyLength, hasSalary ? 1 : 0, 12);
        if (input.salaryMax != 0 && input.salaryMin > input.salaryMax) {
            (input.salaryMin, input.salaryMax) = (input.salaryMax, input.salaryMin);
        }
        if (input.deadline != 0) input.deadline = _toUint64(bound(input.deadline, now_ + 1, type(uint64).max));
        return input;
    }

    /// @dev A length that is over `max` one time in eight (by 1..64 bytes), else within 0..max.
    function _mixedLength(uint256 raw, uint256 max) internal pure returns (uint256) {
        if (raw % 8 == 0) return max + 1 + (raw >> 3) % 64;
        return (raw >> 3) % (max + 1);
    }

    /// @dev Shapes `input` so that each rule fails with a fair probability.
    function _mixedInput(PostingInput memory input, uint256 now_) internal pure returns (PostingInput memory) {
        input.titleLength = input.titleLength % 16 == 1 ? 0 : _mixedLength(input.titleLength, 200);
        input.companyLength = _mixedLength(input.companyLength, 100);
        input.locationLength = _mixedLength(input.locationLength, 100);
        input.tagsLength = _mixedLength(input.tagsLength, 200);
        input.descriptionLength = _mixedLength(input.descriptionLength, 4096);
        input.currencyLength = input.currencyLength % 3 == 0 ? 0 : _mixedLength(input.currencyLength, 12);
        if (input.salaryMin % 3 == 0) input.salaryMin = 0;
        if (input.salaryMax % 3 == 0) input.salaryMax = 0;
        uint256 mode = uint256(input.seed) % 4;
        if (mode == 0) input.deadline = 0;
        else if (mode == 1) input.deadline = _toUint64(now_ - 2 + uint256(input.deadline) % 5);
        return input;
    }

    /// @dev The reference validator: the error `postJob`/`updateJob` must revert with at time
    ///      `now_`, or empty if the posting is valid. Rules are checked in the documented order.
    function _expectedError(PostingInput memory input, uint256 now_) internal pure returns (bytes memory) {
        if (input.titleLength == 0) return abi.encodeWithSelector(JobBoard.EmptyTitle.selector);
        uint256[6] memory lengths = [
            input.titleLength,
            input.companyLength,
            input.locationLength,
            input.tagsLength,
            input.descriptionLength,
            input.currencyLength
        ];
        uint256[6] memory limits = [uint256(200), 100, 100, 200, 4096, 12];
        for (uint256 i; i < 6; ++i) {
            if (lengths[i] > limits[i]) return _fieldTooLong(JobBoard.PostingField(i), lengths[i], limits[i]);
        }
        if ((input.salaryMin != 0 || input.salaryMax != 0) && input.currencyLength == 0) {
            return abi.encodeWithSelector(JobBoard.SalaryCurrencyRequired.selector, input.salaryMin, input.salaryMax);
        }
        if (input.salaryMax != 0 && input.salaryMin > input.salaryMax) {
            return abi.encodeWithSelector(JobBoard.SalaryRangeInverted.selector, input.salaryMin, input.salaryMax);
        }
        if (input.deadline != 0 && input.deadline <= now_) {
            return abi.encodeWithSelector(JobBoard.DeadlineNotInFuture.selector, input.deadline, now_);
        }
        return "";
    }

    function _assertPostingEq(JobBoard.Posting memory actual, JobBoard.Posting memory expected) internal pure {
        vm.assertEq(actual.title, expected.title, "title");
        vm.assertEq(actual.company, expected.company, "company");
        vm.assertEq(actual.location, expected.location, "location");
        vm.assertEq(actual.tags, expected.tags, "tags");
        vm.assertEq(actual.description, expected.description, "description");
        vm.assertEq(actual.salaryCurrency, expected.salaryCurrency, "salaryCurrency");
        vm.assertEq(uint256(actual.salaryMin), uint256(expected.salaryMin), "salaryMin");
        vm.assertEq(uint256(actual.salaryMax), uint256(expected.salaryMax), "salaryMax");
        vm.assertEq(uint256(actual.deadline), uint256(expected.deadline), "deadline");
    }

    // ------------------------------------------------------------------ postings

    function testFuzz_postJob_acceptsValidPostingAndEmitsItVerbatim(PostingInput memory input, uint256 now_) public {
        now_ = bound(now_, 1, MAX_TIMESTAMP);
        vm.warp(now_);
        JobBoard.Posting memory posting = _build(_validInput(input, now_));

        // Decoded from the raw log (not via expectEmit, whose expected event would be recorded too).
        vm.recordLogs();
        uint256 jobId = _post(employer, posting);
        vm.assertEq(jobId, 1, "jobId");

        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 1, "one event");
        vm.assertEq(logs[0].emitter, address(board), "emitter");
        vm.assertEq(logs[0].topics.length, 3, "topics");
        vm.assertEq(logs[0].topics[0], JobBoard.JobPosted.selector, "topic0");
        vm.assertEq(uint256(logs[0].topics[1]), jobId, "jobId topic");
        vm.assertEq(logs[0].topics[2], bytes32(uint256(uint160(employer))), "employer topic");
        _assertPostingEq(abi.decode(logs[0].data, (JobBoard.Posting)), posting);
        _assertJob(jobId, employer, posting.deadline, false);
    }

    function testFuzz_postJob_matchesReferenceValidator(PostingInput memory input, uint256 now_) public {
        now_ = bound(now_, 3, MAX_TIMESTAMP);
        vm.warp(now_);
        input = _mixedInput(input, now_);
        JobBoard.Posting memory posting = _build(input);
        bytes memory err = _expectedError(input, now_);

        if (err.length == 0) {
            vm.expectEmit(true, true, true, true, address(board));
            emit JobBoard.JobPosted(1, employer, posting);
        } else {
            vm.expectRevert(err);
        }
        vm.prank(employer);
        board.postJob(posting);
        vm.assertEq(board.nextJobId(), err.length == 0 ? 2 : 1, "nextJobId");
    }

    function testFuzz_updateJob_matchesReferenceValidator(PostingInput memory input, uint256 elapsed) public {
        uint256 jobId = _post();
        uint256 now_ = START + bound(elapsed, 0, 365 days);
        vm.warp(now_);
        input = _mixedInput(input, now_);
        JobBoard.Posting memory posting = _build(input);
        bytes memory err = _expectedError(input, now_);

        if (err.length == 0) {
            vm.expectEmit(true, true, true, true, address(board));
            emit JobBoard.JobUpdated(jobId, posting);
        } else {
            vm.expectRevert(err);
        }
        vm.prank(employer);
        board.updateJob(jobId, posting);
        _assertJob(jobId, employer, err.length == 0 ? posting.deadline : START + 30 days, false);
    }

    function testFuzz_postJob_salaryRules(uint64 salaryMin, uint64 salaryMax, bool withCurrency) public {
        JobBoard.Posting memory posting = _posting();
        posting.salaryMin = salaryMin;
        posting.salaryMax = salaryMax;
        posting.salaryCurrency = withCurrency ? "USD" : "";
        bool valid = true;
        if ((salaryMin != 0 || salaryMax != 0) && !withCurrency) {
            valid = false;
            vm.expectRevert(abi.encodeWithSelector(JobBoard.SalaryCurrencyRequired.selector, salaryMin, salaryMax));
        } else if (salaryMax != 0 && salaryMin > salaryMax) {
            valid = false;
            vm.expectRevert(abi.encodeWithSelector(JobBoard.SalaryRangeInverted.selector, salaryMin, salaryMax));
        } else {
            vm.expectEmit(true, true, true, true, address(board));
            emit JobBoard.JobPosted(1, employer, posting);
        }
        vm.prank(employer);
        board.postJob(posting);
        vm.assertEq(board.nextJobId(), valid ? 2 : 1, "nextJobId");
    }

    function testFuzz_postJob_deadlineMustBeZeroOrInTheFuture(uint64 deadline, uint256 now_) public {
        now_ = bound(now_, 0, type(uint64).max);
        vm.warp(now_);
        JobBoard.Posting memory posting = _minimalPosting();
        posting.deadline = deadline;
        bool valid = deadline == 0 || deadline > now_;
        if (!valid) vm.expectRevert(abi.encodeWithSelector(JobBoard.DeadlineNotInFuture.selector, deadline, now_));
        vm.prank(employer);
        board.postJob(posting);
        if (valid) _assertJob(1, employer, deadline, false);
        else vm.assertEq(board.nextJobId(), 1, "nothing posted");
    }

    function testFuzz_postJob_rejectsEveryTooLongField(uint8 fieldSeed, uint256 excess) public {
        JobBoard.PostingField field = JobBoard.PostingField(bound(fieldSeed, 0, 5));
        uint256 max = _maxLength(field);
        uint256 length = max + bound(excess, 1, 2048);
        JobBoard.Posting memory posting = _withFieldLength(_posting(), field, length);
        vm.expectRevert(_fieldTooLong(field, length, max));
        vm.prank(employer);
        board.postJob(posting);
    }

    // ------------------------------------------------------------------ deadline boundary

    function testFuzz_applyTo_acceptedUpToAndIncludingTheDeadlineSecond(
        uint256 postedAt,
        uint256 lifetime,
        uint256 delay
    ) public {
        postedAt = bound(postedAt, 1, MAX_TIMESTAMP);
        lifetime = bound(lifetime, 2, 365 days);
        // Half of the runs land within two seconds of the deadline, the rest anywhere up to 2x.
        delay = delay % 2 == 0 ? lifetime - 2 + bound(delay >> 1, 0, 4) : bound(delay >> 1, 0, 2 * lifetime);
        vm.warp(postedAt);
        JobBoard.Posting memory posting = _posting();
        posting.deadline = _toUint64(postedAt + lifetime);
        uint256 jobId = _post(employer, posting);

        vm.warp(postedAt + delay);
        bool open = delay <= lifetime;
        if (!open) {
            vm.expectRevert(
                abi.encodeWithSelector(JobBoard.JobExpired.selector, jobId, postedAt + lifetime, postedAt + delay)
            );
        }
        vm.prank(applicant);
        board.applyTo(jobId, _hash(jobId, applicant));
        vm.assertEq(board.applicationOf(jobId, applicant), open ? 1 : 0, "applicationOf");
    }

    function testFuzz_applyTo_storesAnyNonzeroHash(bytes32 applicationHash) public {
        vm.assume(applicationHash != bytes32(0));
        uint256 jobId = _post();
        vm.expectEmit(true, true, true, true, address(board));
        emit JobBoard.ApplicationSubmitted(jobId, applicant, 1, applicationHash);
        vm.prank(applicant);
        uint256 id = board.applyTo(jobId, applicationHash);
        _assertApplication(id, applicant, jobId, SUBMITTED, applicationHash);
    }

    // ------------------------------------------------------------------ status machine

    /// @dev The reference table: EMPLOYER_MAY[from][to] for setApplicationStatus(Batch).
    function _employerMay(JobBoard.ApplicationStatus from, JobBoard.ApplicationStatus to) internal pure returns (bool) {
        bool[5][5] memory table = [
            // to: Submitted, Shortlisted, Rejected, Hired, Withdrawn
            [false, true, true, true, false], // from Submitted
            [false, false, true, true, false], // from Shortlisted
            [false, false, false, false, false], // from Rejected (final)
            [false, false, false, false, false], // from Hired (final)
            [false, false, false, false, false] // from Withdrawn (final)
        ];
        return table[uint8(from)][uint8(to)];
    }

    /// @dev The reference table for the applicant: only withdrawal, and only while undecided.
    function _applicantMayWithdraw(JobBoard.ApplicationStatus from) internal pure returns (bool) {
        bool[5] memory table = [true, true, false, false, false];
        return table[uint8(from)];
    }

    /// Each step picks an action and a target status; the expected outcome comes only from the
    /// reference tables and the model status, never from the contract.
    function testFuzz_statusTransitions_followReferenceTable(uint8[16] memory steps) public {
        uint256 jobId = _postOpenEnded(employer);
        uint256 id = _apply(jobId, applicant);
        uint256 nextId = 2;
        JobBoard.ApplicationStatus status = SUBMITTED;
        uint256[] memory withdrawn = new uint256[](steps.length);
        uint256 withdrawnCount;

        for (uint256 i; i < steps.length; ++i) {
            uint256 action = steps[i] % 5;
            JobBoard.ApplicationStatus target = JobBoard.ApplicationStatus((steps[i] / 5) % 5);
            bool settable = target != SUBMITTED && target != WITHDRAWN;

            if (action <= 1) {
                // The employer sets `target`, alone or as a one-item batch.
                if (!settable) {
                    vm.expectRevert(abi.encodeWithSelector(JobBoard.StatusNotSettableByEmployer.selector, target));
                } else if (_employerMay(status, target)) {
                    vm.expectEmit(true, true, true, true, address(board));
                    emit JobBoard.ApplicationStatusChanged(id, jobId, target);
                } else {
                    vm.expectRevert(
                        abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, id, status, target)
                    );
                }
                vm.prank(employer);
                if (action == 0) board.setApplicationStatus(id, target);
                else board.setApplicationStatusBatch(_ids(id), target);
                if (settable && _employerMay(status, target)) status = target;
            } else if (action == 2) {
                // The applicant withdraws.
                if (_applicantMayWithdraw(status)) {
                    vm.expectEmit(true, true, true, true, address(board));
                    emit JobBoard.ApplicationStatusChanged(id, jobId, WITHDRAWN);
                } else {
                    vm.expectRevert(
                        abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, id, status, WITHDRAWN)
                    );
                }
                _withdraw(id, applicant);
                if (_applicantMayWithdraw(status)) status = WITHDRAWN;
            } else if (action == 3) {
                // Someone else tries: never allowed, never changes anything.
                if (steps[i] % 2 == 0) {
                    vm.expectRevert(
                        settable
                            ? abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, jobId, stranger, employer)
                            : abi.encodeWithSelector(JobBoard.StatusNotSettableByEmployer.selector, target)
                    );
                    vm.prank(stranger);
                    board.setApplicationStatus(id, target);
                } else {
                    vm.expectRevert(abi.encodeWithSelector(JobBoard.NotApplicant.selector, id, stranger, applicant));
                    _withdraw(id, stranger);
                }
            } else {
                // The applicant (re-)applies: only possible once the live application is withdrawn.
                if (status == WITHDRAWN) {
                    vm.expectEmit(true, true, true, true, address(board));
                    emit JobBoard.ApplicationSubmitted(jobId, applicant, nextId, _hash(jobId, applicant));
                    withdrawn[withdrawnCount++] = id;
                    id = nextId++;
                    status = SUBMITTED;
                } else {
                    vm.expectRevert(abi.encodeWithSelector(JobBoard.AlreadyApplied.selector, jobId, applicant, id));
                }
                vm.prank(applicant);
                board.applyTo(jobId, _hash(jobId, applicant));
            }

            _assertStatus(id, status);
            vm.assertEq(board.applicationOf(jobId, applicant), status == WITHDRAWN ? 0 : id, "applicationOf");
            vm.assertEq(board.nextApplicationId(), nextId, "nextApplicationId");
            for (uint256 w; w < withdrawnCount; ++w) {
                _assertStatus(withdrawn[w], WITHDRAWN);
            }
        }
    }

    // ------------------------------------------------------------------ batches

    /// A batch of 1..10 ids; optionally one item is made invalid in one of four ways. An invalid
    /// batch must revert with that item's exact error and change nothing.
    function testFuzz_setApplicationStatusBatch_isAllOrNothing(
        uint256 size,
        uint256 badIndex,
        uint256 badKind,
        uint256 statusSeed
    ) public {
        size = bound(size, 1, 10);
        badKind = bound(badKind, 0, 4);
        if (badKind == 4 && size == 1) badKind = 3;
        uint256 bad = bound(badIndex, badKind == 4 ? 1 : 0, size - 1);
        JobBoard.ApplicationStatus target = JobBoard.ApplicationStatus(bound(statusSeed, 1, 3));

        uint256 jobId = _postOpenEnded(employer);
        uint256[] memory ids = new uint256[](size);
        for (uint256 i; i < size; ++i) {
            ids[i] = _apply(jobId, _freshActor());
        }
        uint256 foreignJob = _postOpenEnded(otherEmployer);
        uint256 foreign = _apply(foreignJob, applicant);
        uint256 hired = _applicationIn(jobId, HIRED);

        bytes memory err;
        if (badKind == 1) {
            ids[bad] = board.nextApplicationId();
            err = abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, ids[bad]);
        } else if (badKind == 2) {
            ids[bad] = foreign;
            err = abi.encodeWithSelector(JobBoard.NotJobEmployer.selector, foreignJob, employer, otherEmployer);
        } else if (badKind == 3) {
            ids[bad] = hired;
            err = abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, hired, HIRED, target);
        } else if (badKind == 4) {
            ids[bad] = ids[bad - 1];
            err = abi.encodeWithSelector(JobBoard.InvalidStatusTransition.selector, ids[bad], target, target);
        }

        if (badKind == 0) {
            for (uint256 i; i < size; ++i) {
                vm.expectEmit(true, true, true, true, address(board));
                emit JobBoard.ApplicationStatusChanged(ids[i], jobId, target);
            }
        } else {
            vm.expectRevert(err);
        }
        vm.prank(employer);
        board.setApplicationStatusBatch(ids, target);

        for (uint256 i; i < size; ++i) {
            if (ids[i] == foreign || ids[i] == hired || ids[i] >= board.nextApplicationId()) continue;
            _assertStatus(ids[i], badKind == 0 ? target : SUBMITTED);
        }
        _assertStatus(foreign, SUBMITTED);
        _assertStatus(hired, HIRED);
    }

    // ------------------------------------------------------------------ application hash

    function _specHash(address board_, uint256 jobId, address who, bytes32 salt, bytes32 documentHash)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encode("jobboard.application.v1", block.chainid, board_, jobId, who, salt, documentHash));
    }

    function testFuzz_applicationHashOf_matchesSpecFormula(
        uint256 jobId,
        address who,
        bytes32 salt,
        bytes32 documentHash,
        uint64 chainId
    ) public {
        vm.chainId(bound(chainId, 1, type(uint64).max));
        vm.assertEq(
            board.applicationHashOf(jobId, who, salt, documentHash),
            _specHash(address(board), jobId, who, salt, documentHash),
            "applicationHashOf"
        );
    }

    function testFuzz_applicationHashOf_changesWhenAnySingleInputChanges(
        uint256 jobId,
        address who,
        bytes32 salt,
        bytes32 documentHash,
        uint256 delta
    ) public {
        delta = bound(delta, 1, type(uint160).max);
        bytes32 original = board.applicationHashOf(jobId, who, salt, documentHash);
        vm.assertEq(original, _specHash(address(board), jobId, who, salt, documentHash), "original");

        vm.assertTrue(board.applicationHashOf(jobId ^ delta, who, salt, documentHash) != original, "jobId");
        // casting to 'uint160' is safe because delta is bounded to uint160.
        // forge-lint: disable-next-line(unsafe-typecast)
        address otherWho = address(uint160(who) ^ uint160(delta));
        vm.assertTrue(board.applicationHashOf(jobId, otherWho, salt, documentHash) != original, "applicant");
        vm.assertTrue(board.applicationHashOf(jobId, who, salt ^ bytes32(delta), documentHash) != original, "salt");
        vm.assertTrue(
            board.applicationHashOf(jobId, who, salt, documentHash ^ bytes32(delta)) != original, "documentHash"
        );

        JobBoard secondBoard = new JobBoard();
        bytes32 onSecondBoard = secondBoard.applicationHashOf(jobId, who, salt, documentHash);
        vm.assertTrue(onSecondBoard != original, "board address");
        vm.assertEq(onSecondBoard, _specHash(address(secondBoard), jobId, who, salt, documentHash), "second board");

        uint256 chainId = block.chainid;
        vm.chainId(chainId == 1 ? 2 : 1);
        bytes32 onOtherChain = board.applicationHashOf(jobId, who, salt, documentHash);
        vm.assertTrue(onOtherChain != original, "chain id");
        vm.assertEq(onOtherChain, _specHash(address(board), jobId, who, salt, documentHash), "other chain");
        vm.chainId(chainId);
        vm.assertEq(board.applicationHashOf(jobId, who, salt, documentHash), original, "chain id restored");
    }

    function testFuzz_applicationHashOf_differsAcrossChains(bytes32 salt, uint64 chainA, uint64 chainB) public {
        chainA = _toUint64(bound(chainA, 1, type(uint64).max));
        chainB = _toUint64(bound(chainB, 1, type(uint64).max));
        vm.assume(chainA != chainB);
        bytes32 documentHash = sha256("cv");
        vm.chainId(chainA);
        bytes32 onA = board.applicationHashOf(1, applicant, salt, documentHash);
        vm.chainId(chainB);
        bytes32 onB = board.applicationHashOf(1, applicant, salt, documentHash);
        vm.assertTrue(onA != onB, "chain-bound");
        vm.assertEq(onB, _specHash(address(board), 1, applicant, salt, documentHash), "spec on chain B");
    }
}
