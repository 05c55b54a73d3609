using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>Fake workers registered in the database, and orphaned volumes on them (in the database and "on disk").</summary>
public sealed class WorkerFleet(AtcGcStore store, Scenario given) : IAsyncDisposable
{
    private readonly List<FakeWorker> workers = [];

    public async Task<FakeWorker> AddAsync(string name, string secret = CollectorHarness.Secret)
    {
        var worker = await FakeWorker.StartAsync(name, secret);
        workers.Add(worker);
        await store.Workers.RegisterAsync(new WorkerRegistration(name, worker.BaseUrl, []));
        return worker;
    }

    /// <summary>Initialized volumes on the worker (and held by it), owned by one container; deleting the container orphans them.</summary>
    public async Task<(long ContainerId, IReadOnlyList<Volume> Volumes)> VolumesAsync(FakeWorker worker, int count)
    {
        var container = await given.ContainerAsync(worker.Name);
        var volumes = new List<Volume>();
        for (var i = 0; i < count; i++)
        {
            volumes.Add(await given.VolumeAsync(VolumeState.Initialized, worker.Name, VolumeOwners.Container(container.Id)));
        }

        worker.Hold(volumes.Select(v => v.Handle));
        return (container.Id, volumes);
    }

    /// <summary>Orphaned volumes on the worker.</summary>
    public async Task<IReadOnlyList<Volume>> OrphansAsync(FakeWorker worker, int count)
    {
        var (container, volumes) = await VolumesAsync(worker, count);
        await given.ReleaseContainerAsync(container);
        return volumes;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }
    }
}
