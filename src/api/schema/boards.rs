//! Which board a field reads: the `chainId` arguments, and the board every object carries so
//! that its nested fields read the same board.

use super::*;

/// The board an object was read from: an index into [`ApiContext::boards`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BoardIx(pub(super) usize);

/// The board behind `on`.
pub(super) fn board<'a>(ctx: &Context<'a>, on: BoardIx) -> &'a BoardApi {
    // Every BoardIx is made by `chosen`/`scope`/a merge over this same list.
    &api(ctx).boards[on.0]
}

/// The chain ids of the boards served, in [`ApiContext::boards`] order.
pub(super) fn chains(ctx: &Context<'_>) -> Vec<u64> {
    api(ctx).boards.iter().map(BoardApi::chain_id).collect()
}

fn served(ctx: &Context<'_>) -> String {
    chains(ctx).iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// The board a lookup (`job(chainId:, id:)`, `employer`, …) reads: the one on `chain_id`, or
/// the only one when it is omitted.
///
/// # Errors
/// `BAD_USER_INPUT` for a chain not served, or no `chainId` while several boards are.
pub(super) fn chosen(ctx: &Context<'_>, chain_id: Option<BigInt>) -> Result<BoardIx> {
    match scope(ctx, chain_id)? {
        Some(on) => Ok(on),
        None => Err(bad_input(format!(
            "this API serves boards on chains {}: pass `chainId` to say which",
            served(ctx)
        ))),
    }
}

/// The board a list reads: the one on `chain_id`, the only one when it is omitted, or `None`
/// for every board served (the list is then merged across them).
///
/// # Errors
/// `BAD_USER_INPUT` for a chain not served.
pub(super) fn scope(ctx: &Context<'_>, chain_id: Option<BigInt>) -> Result<Option<BoardIx>> {
    let boards = &api(ctx).boards;
    match chain_id {
        Some(BigInt(wanted)) => match boards.iter().position(|b| b.chain_id() == wanted) {
            Some(index) => Ok(Some(BoardIx(index))),
            None => Err(bad_input(format!("chain {wanted} is not served here; served: {}", served(ctx)))),
        },
        None if boards.len() == 1 => Ok(Some(BoardIx(0))),
        None => Ok(None),
    }
}

/// A node id no other object of any board shares (`Job:8453:42`): what a client cache keys
/// objects by, since on-chain ids repeat across chains.
pub(super) fn node_id(kind: &str, ctx: &Context<'_>, on: BoardIx, id: u64) -> ID {
    ID(format!("{kind}:{}:{id}", board(ctx, on).chain_id()))
}
