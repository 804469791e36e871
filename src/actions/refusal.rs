//! The node's refusals of a transaction that a person can act on, recognised in one place.
//!
//! Nodes give these refusals one generic JSON-RPC code (anvil -32003 "transaction rejected",
//! geth and most others -32000 "server error") and tell them apart only in the message, so the
//! message is matched here, once, against the phrases the nodes use; the integration tests
//! check this wrapper against anvil's real answers. Anything not recognised stays the node's
//! own error.

use std::fmt;

use alloy::primitives::utils::format_ether;
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::transports::TransportError;

use super::ActionError;
use crate::chain::ChainError;
use crate::contract::JobBoard;

/// The JSON-RPC codes nodes use for a rejected transaction: -32000 (geth, reth, nethermind,
/// hosted providers), -32003 (anvil, hardhat: "transaction rejected"), -32010 (parity/openethereum).
const REJECTED_CODES: [i64; 3] = [-32000, -32003, -32010];

/// Why the node refused a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRefusal {
    /// The sender cannot pay gas × fee + value.
    InsufficientFunds,
    /// The nonce is below the account's next one: a transaction with it was mined meanwhile.
    NonceTooLow,
    /// A transaction with the same nonce is already waiting in the node's pool.
    ReplacementUnderpriced,
    /// The transaction was signed for another chain than the node's.
    WrongChainId,
}

impl NodeRefusal {
    /// Recognises a refusal in a failed call: an error answer from the node with one of the
    /// codes and phrases of [`NodeRefusal::classify`]; `None` for anything else.
    pub fn of(error: &TransportError) -> Option<NodeRefusal> {
        error.as_error_resp().and_then(|payload| NodeRefusal::classify(payload.code, &payload.message))
    }

    /// Recognises a refusal in a node's error answer (its JSON-RPC code and message); `None`
    /// for anything else.
    pub fn classify(code: i64, message: &str) -> Option<NodeRefusal> {
        if !REJECTED_CODES.contains(&code) {
            return None;
        }
        let message = message.to_ascii_lowercase();
        if message.contains("insufficient funds") {
            Some(NodeRefusal::InsufficientFunds)
        } else if message.contains("nonce too low") {
            Some(NodeRefusal::NonceTooLow)
        } else if message.contains("replacement transaction underpriced")
            || message.contains("replacement underpriced")
        {
            Some(NodeRefusal::ReplacementUnderpriced)
        } else if message.contains("chain id") || message.contains("chainid") {
            Some(NodeRefusal::WrongChainId)
        } else {
            None
        }
    }
}

/// Who sent what through which node: what a refusal's message is built from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused<'a> {
    /// The contract function, or "deployment".
    pub operation: &'static str,
    /// The signer.
    pub account: Address,
    /// The node's chain.
    pub chain_id: u64,
    /// The node's URL, redacted.
    pub url: &'a str,
}

/// The [`ActionError`] for `refusal`, with the facts the sender needs asked from the node (best
/// effort: a fact the node does not give is left out). `gas` is the transaction's gas estimate,
/// when known, for what it needs.
pub(crate) async fn explain<P: Provider>(
    provider: &P,
    refusal: NodeRefusal,
    sent: Refused<'_>,
    gas: Option<u64>,
) -> ActionError {
    let Refused { operation, account, chain_id, url } = sent;
    match refusal {
        NodeRefusal::InsufficientFunds => {
            let balance = provider.get_balance(account).await.ok();
            let fee = provider.estimate_eip1559_fees().await.ok().map(|fees| fees.max_fee_per_gas);
            let needed = gas.zip(fee).map(|(gas, fee)| U256::from(gas) * U256::from(fee));
            let accounts = if chain_id == DEV_CHAIN_ID {
                provider.get_accounts().await.unwrap_or_default()
            } else {
                Vec::new()
            };
            let funding = Funding::for_chain(chain_id, &accounts);
            ActionError::InsufficientFunds(Box::new(Unfunded {
                operation,
                account,
                chain_id,
                balance,
                needed,
                funding,
            }))
        }
        NodeRefusal::NonceTooLow | NodeRefusal::ReplacementUnderpriced => {
            let mined = provider.get_transaction_count(account).latest().await.ok();
            let pending = provider.get_transaction_count(account).pending().await.ok();
            ActionError::PendingTransaction { operation, refusal, account, chain_id, mined, pending }
        }
        NodeRefusal::WrongChainId => ActionError::ChainIdRefused { operation, chain_id, url: url.to_owned() },
    }
}

/// A failed `jobboard deploy` explained like the other signing commands' failures, when the
/// node refused the deployment for a reason [`NodeRefusal`] recognises; `None` otherwise (the
/// caller reports the error as it is).
pub async fn explain_deploy_refusal<P: Provider>(
    provider: &P,
    account: Address,
    url: &str,
    error: &ChainError,
) -> Option<ActionError> {
    let ChainError::Send { failure, .. } = error else { return None };
    let alloy::contract::Error::TransportError(transport) = failure.as_ref() else { return None };
    let refusal = NodeRefusal::of(transport)?;
    let chain_id = provider.get_chain_id().await.ok()?;
    let gas = match refusal {
        NodeRefusal::InsufficientFunds => JobBoard::deploy_builder(provider).estimate_gas().await.ok(),
        _ => None,
    };
    Some(explain(provider, refusal, Refused { operation: "deployment", account, chain_id, url }, gas).await)
}

/// The anvil/hardhat dev chain's id, where test ETH is free for the taking.
pub(crate) const DEV_CHAIN_ID: u64 = 31337;

/// The first keys of anvil's (and hardhat's) default dev accounts, from the public test
/// mnemonic "test test ... junk". Printed only for accounts the node lists as its own, so the
/// hint is true for the chain at hand. They are public: never use them on a real network.
const DEV_KEYS: [&str; 3] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

/// A transaction its sender cannot pay for, with what the sender needs to know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{operation} refused for insufficient funds: account {account} holds {} ETH on chain {chain_id}{}.\n  {funding}{}",
    balance.map_or_else(|| "an unknown amount of".to_owned(), format_ether),
    needed.map_or_else(String::new, |needed| format!(
        " and the transaction needs up to {} ETH (gas limit x max fee per gas)",
        format_ether(needed)
    )),
    match funding {
        Funding::DevChain { .. } => format!(
            "\n  Or fund this account from one: cast send --value 1ether --private-key <dev key> {account}"
        ),
        Funding::Elsewhere => String::new(),
    }
)]
pub struct Unfunded {
    /// The contract function.
    pub operation: &'static str,
    /// The signer.
    pub account: Address,
    /// The node's chain.
    pub chain_id: u64,
    /// Its balance, if the node told.
    pub balance: Option<U256>,
    /// The most the transaction can cost, if it could be estimated.
    pub needed: Option<U256>,
    /// Where to get ETH.
    pub funding: Funding,
}

/// Where an unfunded account can get ETH on its chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Funding {
    /// The dev chain: its dev accounts hold test ETH; the known keys among them.
    DevChain {
        /// Dev accounts with their public test keys (hex).
        keys: Vec<(Address, String)>,
        /// Other dev accounts the node lists, whose keys anvil printed when it started.
        others: Vec<Address>,
    },
    /// Any other chain.
    Elsewhere,
}

impl Funding {
    /// The hint for `chain_id`, given the accounts the node says it holds (`eth_accounts`).
    pub(crate) fn for_chain(chain_id: u64, node_accounts: &[Address]) -> Funding {
        if chain_id != DEV_CHAIN_ID {
            return Funding::Elsewhere;
        }
        let known: Vec<(Address, String)> = DEV_KEYS
            .iter()
            .filter_map(|key| {
                let signer: alloy::signers::local::PrivateKeySigner = key.parse().ok()?;
                node_accounts.contains(&signer.address()).then(|| (signer.address(), (*key).to_owned()))
            })
            .collect();
        let others =
            node_accounts.iter().filter(|a| !known.iter().any(|(k, _)| k == *a)).take(3).copied().collect();
        Funding::DevChain { keys: known, others }
    }
}

impl fmt::Display for Funding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Funding::Elsewhere => write!(
                f,
                "Send the account ETH first: on a test network from a faucet for that chain, otherwise \
                 from an account that holds some; or sign with a funded account."
            ),
            Funding::DevChain { keys, others } => {
                write!(
                    f,
                    "This is a dev chain (anvil, chain id {DEV_CHAIN_ID}): its dev accounts hold test ETH. \
                     Sign with one of them"
                )?;
                match keys.first() {
                    Some(_) => {
                        write!(f, " (public test keys, never for a real network):")?;
                        for (address, key) in keys {
                            write!(f, "\n    JOBBOARD_PRIVATE_KEY={key}   # {address}")?;
                        }
                    }
                    None => write!(f, " (anvil printed their keys when it started)")?,
                }
                if !others.is_empty() {
                    let others: Vec<String> = others.iter().map(ToString::to_string).collect();
                    write!(f, "\n  More dev accounts: {}.", others.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_recognised_in_the_phrases_of_geth_and_anvil_and_nothing_else() {
        // anvil's answers are checked for real in tests/it/node_errors.rs; geth's, from its source.
        let cases = [
            (
                -32000,
                "insufficient funds for gas * price + value: address 0x01 have 0 want 1",
                Some(NodeRefusal::InsufficientFunds),
            ),
            (-32000, "nonce too low: next nonce 5, tx nonce 3", Some(NodeRefusal::NonceTooLow)),
            (-32000, "replacement transaction underpriced", Some(NodeRefusal::ReplacementUnderpriced)),
            (-32000, "invalid chain id for signer", Some(NodeRefusal::WrongChainId)),
            (-32000, "execution reverted", None),
            (-32601, "insufficient funds", None),
            (3, "execution reverted: nonce too low", None),
        ];
        for (code, message, expected) in cases {
            assert_eq!(NodeRefusal::classify(code, message), expected, "{code} {message}");
        }
    }

    #[test]
    fn the_dev_chain_hint_names_only_keys_the_node_holds() {
        let first: alloy::signers::local::PrivateKeySigner =
            DEV_KEYS[0].parse().expect("a valid constant key");
        let stranger = Address::repeat_byte(0x42);
        let hint = Funding::for_chain(DEV_CHAIN_ID, &[first.address(), stranger]);
        let text = hint.to_string();
        assert!(text.contains(DEV_KEYS[0]) && !text.contains(DEV_KEYS[1]), "{text}");
        assert!(text.contains(&stranger.to_string()), "{text}");
        assert_eq!(Funding::for_chain(1, &[first.address()]), Funding::Elsewhere);
    }
}
