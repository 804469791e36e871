// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {JobBoard} from "../src/JobBoard.sol";

/// @notice JSON look-ups not in the shared cheatcode interface.
interface VmJson {
    function keyExistsJson(string calldata json, string calldata key) external view returns (bool);
}

/// @notice Checks `applicationHashOf` against the fixed vectors in test/vectors/application-hash.json,
///         which the Rust tests and the README's example use too: all three must agree.
contract ApplicationHashVectorsTest is Test {
    function test_applicationHashOf_matchesEveryVector() public {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/test/vectors/application-hash.json"));
        bytes memory runtime = address(new JobBoard()).code;
        uint256 checked;
        while (VmJson(address(vm)).keyExistsJson(json, string.concat(".vectors[", vm.toString(checked), "]"))) {
            string memory at = string.concat(".vectors[", vm.toString(checked), "]");
            address board = vm.parseJsonAddress(json, string.concat(at, ".board"));
            // The hash binds the chain and the board's address: run the code at the vector's address.
            vm.chainId(vm.parseJsonUint(json, string.concat(at, ".chainId")));
            vm.etch(board, runtime);

            bytes32 documentHash = vm.parseJsonBytes32(json, string.concat(at, ".documentHash"));
            vm.assertEq(sha256(vm.parseJsonBytes(json, string.concat(at, ".document"))), documentHash, "documentHash");
            bytes32 actual = JobBoard(board)
                .applicationHashOf(
                    vm.parseJsonUint(json, string.concat(at, ".jobId")),
                    vm.parseJsonAddress(json, string.concat(at, ".applicant")),
                    vm.parseJsonBytes32(json, string.concat(at, ".salt")),
                    documentHash
                );
            vm.assertEq(actual, vm.parseJsonBytes32(json, string.concat(at, ".applicationHash")), at);
            checked++;
        }
        vm.assertEq(checked, 3, "number of vectors checked");
    }
}
