//! The subscription root: activity and `_meta` pushed from the live hub.

use super::*;

/// Live updates, pushed after the indexer commits.
pub struct SubscriptionRoot;

/// Live updates over graphql-transport-ws, pushed after the indexer commits.
#[Subscription]
impl SubscriptionRoot {
    /// Every new event matching the filter, in chain order, and a REORG event (with the block
    /// reverted to) whenever the indexer reverts; events that replace reverted ones follow it.
    /// Across several chains each chain's events keep their order; there is no order between
    /// chains (each event says its `chainId`).
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this chain's board; omitted, every board this API serves.")] chain_id: Option<
            BigInt,
        >,
        #[graphql(desc = "Conditions the rows must meet.")] r#where: Option<ActivityFilter>,
    ) -> Result<impl Stream<Item = Result<ActivityEvent>> + use<>> {
        let filter = r#where.unwrap_or_default();
        let wants_reorgs = filter.wants_reorgs();
        let filter = filter.to_store()?;
        let only = scope(ctx, chain_id)?;
        let streams: Vec<_> = (0..api(ctx).boards.len())
            .map(BoardIx)
            .filter(|on| only.is_none_or(|only| only == *on))
            .map(|on| board_activity(board(ctx, on), on, filter.clone(), wants_reorgs).boxed())
            .collect();
        // One subscription, however many boards it follows.
        let counted = board(ctx, BoardIx(0)).live.count_subscriber();
        Ok(async_graphql::futures_util::stream::select_all(streams).map(move |event| {
            let _counted = &counted;
            event
        }))
    }

    /// The index status of a board, now and each time its indexed block moves.
    async fn meta(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chain of the board; omitted, the first board this API serves.")]
        chain_id: Option<BigInt>,
    ) -> Result<impl Stream<Item = Meta> + use<>> {
        let on = scope(ctx, chain_id)?.unwrap_or(BoardIx(0));
        let context = api(ctx).clone();
        let live = &board(ctx, on).live;
        let status = tokio_stream::wrappers::WatchStream::new(live.status());
        // `None` until the first value, which is always pushed.
        let mut last_block: Option<Option<(u64, alloy::primitives::B256)>> = None;
        let counted = live.count_subscriber();
        Ok(status.filter_map(move |status| {
            let _counted = &counted;
            let block = status.as_ref().and_then(|s| s.block.as_ref()).map(|b| (b.number, b.hash));
            let moved = last_block.as_ref() != Some(&block);
            last_block = Some(block);
            let meta = moved.then(|| Meta::from_status(&context, on, status.as_ref()));
            async move { meta }
        }))
    }
}

/// One board's events matching `filter` (and its reorgs if `wants_reorgs`), from its live hub;
/// ends with a SUBSCRIPTION_LAGGED error if the client fell too far behind.
fn board_activity(
    board: &BoardApi,
    on: BoardIx,
    filter: store::ActivityFilter,
    wants_reorgs: bool,
) -> impl Stream<Item = Result<ActivityEvent>> + use<> {
    let receiver = board.live.subscribe();
    async_graphql::futures_util::stream::unfold((receiver, false), move |(mut receiver, done)| {
        let filter = filter.clone();
        async move {
            if done {
                return None;
            }
            loop {
                match receiver.recv().await {
                    Ok(event) => match event.as_ref() {
                        LiveEvent::Activity(row) if filter.matches(row) => {
                            return Some((Ok(ActivityEvent::from_row(row, on)), (receiver, false)));
                        }
                        LiveEvent::Reorg { to, hash } if wants_reorgs => {
                            let event = ActivityEvent {
                                kind: ActivityKind::Reorg,
                                job_id: None,
                                application_id: None,
                                status: None,
                                employer: None,
                                applicant: None,
                                block_number: BigInt(*to),
                                block_hash: hash.map(Bytes32),
                                log_index: None,
                                tx_hash: None,
                                timestamp: None,
                                on,
                            };
                            return Some((Ok(event), (receiver, false)));
                        }
                        _ => {}
                    },
                    Err(RecvError::Lagged(missed)) => {
                        let error = gql(ApiError::SubscriptionLagged { missed });
                        return Some((Err(error), (receiver, true)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    })
}
