// Tests here start real servers and processes on a two-core machine; they run one at a time so that
// timing-sensitive ones (hung workers, change signals) are not starved by the others.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
