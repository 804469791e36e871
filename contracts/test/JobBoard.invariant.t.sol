// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {JobBoard} from "../src/JobBoard.sol";
import {JobBoardHandler} from "./handlers/JobBoardHandler.sol";

/// @notice Invariants of a JobBoard driven by `JobBoardHandler` (the only fuzz target): the
///         state rebuilt purely from the board's events equals the board's views, final statuses
///         never change, there is at most one live application per (job, applicant), and the
///         counters agree with the number of events.
contract JobBoardInvariantTest is Test {
    /// @dev The shape forge reads from `targetSelectors()`.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    uint8 internal constant SHORTLISTED = 1;
    uint8 internal constant REJECTED = 2;
    uint8 internal constant HIRED = 3;
    uint8 internal constant WITHDRAWN = 4;

    JobBoard internal board;
    JobBoardHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        board = new JobBoard();
        handler = new JobBoardHandler(board);
        vm.label(address(board), "JobBoard");
        vm.label(address(handler), "JobBoardHandler");
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function excludeContracts() public view returns (address[] memory excluded) {
        excluded = new address[](1);
        excluded[0] = address(board);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = JobBoardHandler.postJob.selector;
        selectors[1] = JobBoardHandler.updateJob.selector;
        selectors[2] = JobBoardHandler.closeJob.selector;
        selectors[3] = JobBoardHandler.applyTo.selector;
        selectors[4] = JobBoardHandler.withdrawApplication.selector;
        selectors[5] = JobBoardHandler.setApplicationStatus.selector;
        selectors[6] = JobBoardHandler.setApplicationStatusBatch.selector;
        selectors[7] = JobBoardHandler.warp.selector;
        selectors[8] = JobBoardHandler.attemptForbiddenAction.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    // ----------------------------------------------------------------------- (a)

    /// The model built only from events equals the board's state for every id.
    function invariant_modelFromEventsEqualsContractState() public view {
        uint256 jobCount = handler.jobPostedEvents();
        uint256 applicationCount = handler.applicationSubmittedEvents();
        vm.assertEq(board.nextJobId(), jobCount + 1, "nextJobId");
        vm.assertEq(board.nextApplicationId(), applicationCount + 1, "nextApplicationId");

        for (uint256 jobId = 1; jobId <= jobCount; ++jobId) {
            JobBoard.Job memory job = board.getJob(jobId);
            JobBoardHandler.ModelJob memory model = handler.modelJob(jobId);
            vm.assertEq(job.employer, model.employer, "job.employer");
            vm.assertEq(uint256(job.deadline), uint256(model.deadline), "job.deadline");
            vm.assertEq(job.closed, model.closed, "job.closed");
        }
        for (uint256 applicationId = 1; applicationId <= applicationCount; ++applicationId) {
            JobBoard.Application memory application = board.getApplication(applicationId);
            JobBoardHandler.ModelApplication memory model = handler.modelApplication(applicationId);
            vm.assertEq(application.applicant, model.applicant, "application.applicant");
            vm.assertEq(uint256(application.jobId), model.jobId, "application.jobId");
            vm.assertEq(uint256(application.status), uint256(model.status), "application.status");
            vm.assertEq(application.applicationHash, model.applicationHash, "application.applicationHash");
        }
        uint256 actors = handler.actorCount();
        for (uint256 jobId = 1; jobId <= jobCount; ++jobId) {
            for (uint256 i; i < actors; ++i) {
                address actor = handler.actorAt(i);
                vm.assertEq(
                    board.applicationOf(jobId, actor), handler.modelLiveApplication(jobId, actor), "applicationOf"
                );
            }
        }
        _assertJobNotFound(0);
        _assertJobNotFound(jobCount + 1);
        _assertApplicationNotFound(0);
        _assertApplicationNotFound(applicationCount + 1);
    }

    function _assertJobNotFound(uint256 jobId) internal view {
        try board.getJob(jobId) returns (JobBoard.Job memory) {
            vm.assertTrue(false, "getJob of an unknown id did not revert");
        } catch (bytes memory reason) {
            vm.assertEq(reason, abi.encodeWithSelector(JobBoard.JobNotFound.selector, jobId), "JobNotFound");
        }
    }

    function _assertApplicationNotFound(uint256 applicationId) internal view {
        try board.getApplication(applicationId) returns (JobBoard.Application memory) {
            vm.assertTrue(false, "getApplication of an unknown id did not revert");
        } catch (bytes memory reason) {
            vm.assertEq(
                reason,
                abi.encodeWithSelector(JobBoard.ApplicationNotFound.selector, applicationId),
                "ApplicationNotFound"
            );
        }
    }

    // ----------------------------------------------------------------------- (b)

    /// Rejected, Hired and Withdrawn never change once observed: no status event ever followed a
    /// final one, and the board still reports every final status the events established.
    function invariant_finalStatusesNeverChange() public view {
        vm.assertEq(handler.finalStatusChanges(), 0, "status event after a final status");
        uint256 applicationCount = handler.applicationSubmittedEvents();
        for (uint256 applicationId = 1; applicationId <= applicationCount; ++applicationId) {
            uint8 status = handler.modelApplication(applicationId).status;
            if (status < REJECTED) continue;
            vm.assertEq(uint256(board.getApplication(applicationId).status), status, "final status changed");
        }
    }

    // ----------------------------------------------------------------------- (c)

    /// At most one live (not withdrawn) application per (job, applicant), and `applicationOf`
    /// points to it: every live application is what `applicationOf` returns for its pair, and
    /// every nonzero `applicationOf` is a live application of exactly that pair.
    function invariant_atMostOneLiveApplicationPerJobAndApplicant() public view {
        uint256 applicationCount = handler.applicationSubmittedEvents();
        uint256 live;
        for (uint256 applicationId = 1; applicationId <= applicationCount; ++applicationId) {
            JobBoardHandler.ModelApplication memory model = handler.modelApplication(applicationId);
            if (model.status == WITHDRAWN) continue;
            live++;
            vm.assertEq(board.applicationOf(model.jobId, model.applicant), applicationId, "live application");
        }

        uint256 pointers;
        uint256 jobCount = handler.jobPostedEvents();
        uint256 actors = handler.actorCount();
        for (uint256 jobId = 1; jobId <= jobCount; ++jobId) {
            for (uint256 i; i < actors; ++i) {
                address actor = handler.actorAt(i);
                uint256 applicationId = board.applicationOf(jobId, actor);
                if (applicationId == 0) continue;
                pointers++;
                JobBoard.Application memory application = board.getApplication(applicationId);
                vm.assertEq(application.applicant, actor, "applicationOf: applicant");
                vm.assertEq(uint256(application.jobId), jobId, "applicationOf: job");
                vm.assertTrue(uint8(application.status) != WITHDRAWN, "applicationOf points to a withdrawn application");
            }
        }
        vm.assertEq(pointers, live, "live applications vs applicationOf pointers");
    }

    // ----------------------------------------------------------------------- (d)

    /// Counters agree with event counts, and the status events agree with both the handler's own
    /// successful calls and the per-application histories.
    function invariant_countersMatchEventCounts() public view {
        vm.assertEq(board.nextJobId() - 1, handler.jobPostedEvents(), "nextJobId - 1 vs JobPosted events");
        vm.assertEq(
            board.nextApplicationId() - 1,
            handler.applicationSubmittedEvents(),
            "nextApplicationId - 1 vs ApplicationSubmitted events"
        );
        vm.assertEq(handler.jobPostedEvents(), handler.successfulPosts(), "JobPosted events vs successful posts");
        vm.assertEq(
            handler.applicationSubmittedEvents(), handler.successfulApplies(), "ApplicationSubmitted vs applies"
        );
        vm.assertEq(handler.jobClosedEvents(), handler.successfulCloses(), "JobClosed events vs successful closes");
        vm.assertEq(
            handler.statusChangedEvents(), handler.expectedStatusEvents(), "status events vs successful status calls"
        );

        uint256 closed;
        for (uint256 jobId = 1; jobId <= handler.jobPostedEvents(); ++jobId) {
            if (board.getJob(jobId).closed) closed++;
        }
        vm.assertEq(closed, handler.jobClosedEvents(), "closed jobs vs JobClosed events");

        uint256[5] memory byStatus;
        uint256 shortlistedEver;
        for (uint256 applicationId = 1; applicationId <= handler.applicationSubmittedEvents(); ++applicationId) {
            JobBoardHandler.ModelApplication memory model = handler.modelApplication(applicationId);
            byStatus[model.status]++;
            if (model.everShortlisted) shortlistedEver++;
        }
        vm.assertEq(handler.statusEventsTo(0), 0, "status events to Submitted");
        vm.assertEq(handler.statusEventsTo(SHORTLISTED), shortlistedEver, "status events to Shortlisted");
        vm.assertEq(handler.statusEventsTo(REJECTED), byStatus[REJECTED], "status events to Rejected");
        vm.assertEq(handler.statusEventsTo(HIRED), byStatus[HIRED], "status events to Hired");
        vm.assertEq(handler.statusEventsTo(WITHDRAWN), byStatus[WITHDRAWN], "status events to Withdrawn");
        vm.assertEq(
            handler.statusChangedEvents(),
            shortlistedEver + byStatus[REJECTED] + byStatus[HIRED] + byStatus[WITHDRAWN],
            "status events vs application histories"
        );
    }

    // ----------------------------------------------------------------------- handler checks

    /// Every action the model predicted valid succeeded, every forbidden one reverted with the
    /// exact error, and every event was well-formed and consistent with the model.
    function invariant_handlerFoundNoProblem() public view {
        vm.assertEq(handler.unexpectedReverts(), 0, "valid action reverted");
        vm.assertEq(handler.unexpectedSuccesses(), 0, "forbidden action succeeded");
        vm.assertEq(handler.wrongRevertReasons(), 0, "forbidden action reverted with another error");
        vm.assertEq(handler.problems(), 0, handler.firstProblem());
    }
}
