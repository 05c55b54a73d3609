using Atc.Gc.Agent;
using Atc.Gc.Agent.Drivers;
using Atc.Gc.Agent.Storage;
using Atc.Gc.Workers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>
/// Creates and deletes of the same handle, and deletes of a parent while a child of it is being made,
/// never interleave. The window is held open: the driver stops inside a create until the test lets it go.
/// </summary>
public sealed class HandleLockTests : IDisposable
{
    private static readonly IReadOnlyDictionary<string, string> NoProperties = new Dictionary<string, string>();
    private readonly string root = Directory.CreateTempSubdirectory("atc-gc-locks-").FullName;
    private readonly HeldDriver driver = new();
    private readonly VolumeStore store;

    public HandleLockTests()
    {
        store = new VolumeStore(
            root, VolumeDrivers.With(root, driver), StoreSettings.Default with { LockWait = TimeSpan.FromSeconds(5) },
            new AgentMetrics(), NullLogger.Instance);
        store.Recover();
    }

    public void Dispose() => AgentDirectory.Remove(root);

    [Fact]
    public async Task A_parent_cannot_be_deleted_while_a_child_of_it_is_being_made()
    {
        await CreateAsync("parent");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("parent"), "input.txt"), "fetched");
        driver.Hold();

        var child = store.CreateAsync("child", VolumeStrategy.CopyOf("parent"), NoProperties, default);
        await driver.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var delete = await store.DeleteAsync("parent", TimeSpan.FromSeconds(1), default);
        driver.Release();

        Assert.Equal(DestroyOutcome.Failed, delete.Outcome);
        Assert.Contains("live children", delete.Error, StringComparison.Ordinal);
        Assert.Equal(CreateOutcome.Created, (await child).Outcome);
        Assert.Equal("fetched", await File.ReadAllTextAsync(Path.Combine(store.DataPathOf("child"), "input.txt")));
    }

    [Fact]
    public async Task A_delete_during_a_create_of_the_same_handle_waits_for_it_and_deletes_what_it_made()
    {
        driver.Hold();
        var create = store.CreateAsync("vol", VolumeStrategy.Empty, NoProperties, default);
        await driver.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var delete = store.DeleteAsync("vol", TimeSpan.FromSeconds(5), default);
        await Task.Delay(200);
        Assert.False(delete.IsCompleted, "the delete went ahead while the create was half-way");
        driver.Release();

        Assert.Equal(CreateOutcome.Created, (await create).Outcome);
        Assert.Equal(DestroyOutcome.Deleted, (await delete).Outcome);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "volumes")));
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task Two_creates_of_one_handle_make_one_volume_and_leave_nothing_half_made()
    {
        driver.Hold();
        var first = store.CreateAsync("vol", VolumeStrategy.Empty, NoProperties, default);
        await driver.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var second = store.CreateAsync("vol", VolumeStrategy.Empty, NoProperties, default);
        await Task.Delay(200);
        driver.Release();

        Assert.Equal(
            [CreateOutcome.Created, CreateOutcome.AlreadyExists],
            new[] { (await first).Outcome, (await second).Outcome }.Order());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "creating")));
        Assert.Single(store.List());
    }

    [Fact]
    public async Task A_delete_that_cannot_wait_for_a_create_of_the_same_handle_answers_pending_not_gone()
    {
        var hurried = Directory.CreateTempSubdirectory("atc-gc-locks-").FullName;
        try
        {
            var quick = new VolumeStore(
                hurried, VolumeDrivers.With(hurried, driver), StoreSettings.Default with { LockWait = TimeSpan.FromMilliseconds(100) },
                new AgentMetrics(), NullLogger.Instance);
            driver.Hold();
            var create = quick.CreateAsync("vol", VolumeStrategy.Empty, NoProperties, default);
            await driver.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

            var delete = await quick.DeleteAsync("vol", TimeSpan.Zero, default);
            driver.Release();

            Assert.Equal(DestroyOutcome.Pending, delete.Outcome);
            Assert.Contains("in progress", delete.Error, StringComparison.Ordinal);
            Assert.Equal(CreateOutcome.Created, (await create).Outcome);
        }
        finally
        {
            AgentDirectory.Remove(hurried);
        }
    }

    private async Task CreateAsync(string handle) =>
        Assert.Equal(CreateOutcome.Created, (await store.CreateAsync(handle, VolumeStrategy.Empty, NoProperties, default)).Outcome);

    /// <summary>The naive driver, made to stop inside a create until released.</summary>
    private sealed class HeldDriver : VolumeDriver
    {
        private readonly NaiveDriver naive = new();
        private TaskCompletionSource? gate;

        public TaskCompletionSource Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override string Name => NaiveDriver.Kind;

        public override bool CopyOnWrite => false;

        public void Hold()
        {
            gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Release() => gate?.TrySetResult();

        public override async Task<MadeVolume> CreateEmptyAsync(string staging, CancellationToken cancellationToken)
        {
            await WaitAsync();
            return await naive.CreateEmptyAsync(staging, cancellationToken);
        }

        public override async Task<MadeVolume> CreateChildAsync(string staging, string parentDirectory, VolumeMetadata parent, CancellationToken cancellationToken)
        {
            await WaitAsync();
            return await naive.CreateChildAsync(staging, parentDirectory, parent, cancellationToken);
        }

        private async Task WaitAsync()
        {
            if (gate is { } held)
            {
                Entered.TrySetResult();
                await held.Task;
            }
        }
    }
}
