//! The subscription root: activity and `_meta` pushed from the live hub.

use super::*;

/// Live updates, pushed after the indexer commits.
pub struct SubscriptionRoot;

/// Live updates over graphql-transport-ws, pushed after the indexer commits.
#[Subscription]
impl SubscriptionRoot {
    /// Every new event matching the filter, in chain order, and a REORG event (with the block
    /// reverted to) whenever the indexer reverts; events that replace reverted ones follow it.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the rows must meet.")] r#where: Option<ActivityFilter>,
    ) -> Result<impl Stream<Item = Result<ActivityEvent>> + use<>> {
        let filter = r#where.unwrap_or_default();
        let wants_reorgs = filter.wants_reorgs();
        let filter = filter.to_store()?;
        let receiver = api(ctx).live.subscribe();
        let counted = api(ctx).live.count_subscriber();
        let stream =
            async_graphql::futures_util::stream::unfold((receiver, false), move |(mut receiver, done)| {
                let filter = filter.clone();
                let _counted = &counted;
                async move {
                    if done {
                        return None;
                    }
                    loop {
                        match receiver.recv().await {
                            Ok(event) => match event.as_ref() {
                                LiveEvent::Activity(row) if filter.matches(row) => {
                                    return Some((Ok(ActivityEvent::from_row(row)), (receiver, false)));
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
            });
        Ok(stream)
    }

    /// The index status, now and each time the indexed block moves.
    async fn meta(&self, ctx: &Context<'_>) -> impl Stream<Item = Meta> + use<> {
        let context = api(ctx).clone();
        let status = tokio_stream::wrappers::WatchStream::new(context.live.status());
        // `None` until the first value, which is always pushed.
        let mut last_block: Option<Option<(u64, alloy::primitives::B256)>> = None;
        let counted = context.live.count_subscriber();
        status.filter_map(move |status| {
            let _counted = &counted;
            let block = status.as_ref().and_then(|s| s.block.as_ref()).map(|b| (b.number, b.hash));
            let moved = last_block.as_ref() != Some(&block);
            last_block = Some(block);
            let meta = moved.then(|| Meta::from_status(&context, status.as_ref()));
            async move { meta }
        })
    }
}
