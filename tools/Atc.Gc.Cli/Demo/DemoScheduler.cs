using System.Net;
using System.Net.Http.Json;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;

namespace Atc.Gc.Cli.Demo;

/// <summary>
/// A CI scheduler, simulated, using the in-process library as a real one would: for every build it
/// creates a container on a running worker, acquires the resource cache of its input (creating the
/// cache's volume on the worker if needed and filling it, as a fetch would), makes a copy-on-write
/// child of it for the container, uses the job's task cache, writes an output volume, runs for a
/// while, and finishes. Each pipeline's repository gets new commits, so old caches fall out of use.
/// </summary>
internal sealed class DemoScheduler(DemoCluster cluster, DemoOptions options, DemoLedger ledger)
{
    private static readonly byte[] Content = CreateContent();
    private readonly List<Job> jobs = [];
    private readonly Dictionary<string, int> commits = new(StringComparer.Ordinal);
    private readonly Lock sync = new();
    private readonly HashSet<string> held = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> running = new(StringComparer.Ordinal);
    private IReadOnlyList<Worker> workers = [];

    /// <summary>Starts no new build of <paramref name="pipeline"/> until <see cref="Resume"/>; returns once its running builds are done.</summary>
    public async Task HoldAsync(string pipeline, TimeSpan timeout)
    {
        lock (sync)
        {
            held.Add(pipeline);
        }

        var deadline = DateTime.UtcNow + timeout;
        while (RunningBuilds(pipeline) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    public void Resume(string pipeline)
    {
        lock (sync)
        {
            held.Remove(pipeline);
        }
    }

    private int RunningBuilds(string pipeline)
    {
        lock (sync)
        {
            return running.GetValueOrDefault(pipeline);
        }
    }

    private AtcGcStore Store => cluster.Store;

    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        foreach (var pipeline in (string[])["web", "api"])
        {
            var pipelineId = await Store.Pipelines.EnsurePipelineAsync(pipeline, cancellationToken);
            var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", $"https://git.example/{pipeline}.git", cancellationToken);
            await Store.Pipelines.EnsureResourceAsync(pipelineId, "repo", config, cancellationToken);
            foreach (var job in (string[])["build", "test"])
            {
                jobs.Add(new Job(pipeline, job, await Store.Pipelines.EnsureJobAsync(pipelineId, job, cancellationToken), config));
            }

            commits[pipeline] = 1;
        }
    }

    /// <summary>Runs builds on <see cref="DemoOptions.Concurrency"/> lanes until <paramref name="stop"/>; running builds finish.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var lanes = Enumerable.Range(0, options.Concurrency).Select(lane => Task.Run(async () =>
        {
            var random = new Random(options.Seed + lane);
            while (!stop.IsCancellationRequested)
            {
                if (!await RunBuildAsync(random))
                {
                    await Task.Delay(200, CancellationToken.None);
                }
            }
        }, CancellationToken.None));
        using var commitsAndWorkers = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var ticking = TickAsync(commitsAndWorkers.Token);
        await Task.WhenAll(lanes);
        await commitsAndWorkers.CancelAsync();
        await ticking;
    }

    /// <summary>New commits now and then; the list of workers a build may go to, refreshed every second.</summary>
    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var lastCommit = ledger.Clock.Elapsed;
        while (!cancellationToken.IsCancellationRequested)
        {
            workers = await Store.Workers.ListAsync(CancellationToken.None);
            if (ledger.Clock.Elapsed - lastCommit > options.CommitEvery)
            {
                lock (sync)
                {
                    foreach (var pipeline in commits.Keys.ToList())
                    {
                        commits[pipeline]++;
                    }
                }

                lastCommit = ledger.Clock.Elapsed;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One build, start to finish. False when no worker could take it.</summary>
    private async Task<bool> RunBuildAsync(Random random)
    {
        var candidates = workers.Where(w => w.State == WorkerState.Running)
            .Select(w => cluster.Agents.FirstOrDefault(a => a.Name == w.Name))
            .OfType<AgentProcess>()
            .Where(a => a.Up)
            .ToList();
        if (candidates.Count == 0)
        {
            return false;
        }

        var agent = candidates[random.Next(candidates.Count)];
        Job job;
        lock (sync)
        {
            var open = jobs.Where(j => !held.Contains(j.Pipeline)).ToList();
            if (open.Count == 0)
            {
                return false;
            }

            job = open[random.Next(open.Count)];
            running[job.Pipeline] = running.GetValueOrDefault(job.Pipeline) + 1;
        }

        try
        {
            await RunBuildAsync(random, agent, job);
        }
        finally
        {
            lock (sync)
            {
                running[job.Pipeline]--;
            }
        }

        return true;
    }

    private async Task RunBuildAsync(Random random, AgentProcess agent, Job job)
    {
        var ct = CancellationToken.None;
        var build = await Store.Builds.CreateAsync(job.Id, ct);
        await Store.Builds.StartAsync(build, ct);
        var holding = new List<string>();
        var releasedOnSuccess = new List<string>();
        var status = BuildStatus.Succeeded;
        try
        {
            var placed = await Store.Containers.CreateAsync(agent.Name, ContainerOwner.Build(build), cancellationToken: ct);
            var container = placed.Container ?? throw new InvalidOperationException($"container not created: {placed.Outcome} {placed.Detail}");
            await Store.Containers.MarkCreatedAsync(container.Id, ct);

            // The input: the pipeline's repository at its latest commit, cached on this worker.
            int commit;
            lock (sync)
            {
                commit = commits[job.Pipeline];
            }

            var cache = await Store.ResourceCaches.AcquireAsync(
                job.ConfigId, $$"""{"ref":"{{job.Pipeline}}-{{commit:D4}}"}""", "depth=1", CacheUser.Build(build), ct);
            await Store.Pipelines.SetNextBuildInputAsync(job.Id, "repo", cache.Id, ct);

            // The container's copy of the input: a copy-on-write child of the cache's volume on this
            // worker (made here if there is none). The child keeps its parent; until it exists the
            // parent may be superseded or collected, and the child is refused — then look again.
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var cacheVolume = await Store.Volumes.FindReadyAsync(agent.Name, VolumeOwners.ResourceCache(cache.Id), ct)
                    ?? await CreateFilledAsync(agent, new VolumeOwners(ContainerId: container.Id, ResourceCacheId: cache.Id), random.Next(200_000, 600_000));
                var child = await Store.Volumes.CreateCopyOnWriteChildAsync(cacheVolume.Id, VolumeOwners.Container(container.Id), cancellationToken: ct);
                if (!child.Succeeded)
                {
                    // The parent started being destroyed (its cache was cleared, or a newer volume superseded it).
                    ledger.ChildRefused();
                    continue;
                }

                Hold(holding, cacheVolume.Handle);
                await CreateOnAgentAsync(agent, new CreateVolumeRequest(child.Volume!.Handle, new VolumeStrategyDto("cow", cacheVolume.Handle)), child.Volume.Id);
                await MarkReadyAsync(child.Volume.Id);
                ledger.Created(child.Volume.Handle, agent.Name, ledger.SizeOf(cacheVolume.Handle));
                Hold(holding, child.Volume.Handle);
                releasedOnSuccess.Add(child.Volume.Handle);
                break;
            }

            // The job's task cache, and an output volume.
            // The task cache volume is mounted: the container owns it while the build runs (another build's
            // mount, or none ready, means a new one, which supersedes the older when it is ready).
            var taskCache = await Store.TaskCaches.FindOrCreateAsync(job.Id, "compile", "/root/.cache", TimeSpan.FromSeconds(20), ct);
            var taskVolume = await Store.Volumes.FindReadyAsync(agent.Name, VolumeOwners.TaskCache(taskCache), ct);
            if (taskVolume is null || await Store.Volumes.AttachOwnersAsync(taskVolume.Id, VolumeOwners.Container(container.Id), ct) != AttachOwnersOutcome.Attached)
            {
                taskVolume = await CreateFilledAsync(agent, new VolumeOwners(ContainerId: container.Id, TaskCacheId: taskCache), random.Next(50_000, 150_000));
            }

            Hold(holding, taskVolume.Handle);
            var output = await CreateFilledAsync(agent, VolumeOwners.Container(container.Id), random.Next(20_000, 100_000));
            Hold(holding, output.Handle);
            releasedOnSuccess.Add(output.Handle);

            await Task.Delay(random.Next(options.BuildMilliseconds.Min, options.BuildMilliseconds.Max), ct);
            status = random.NextDouble() < 0.15 ? BuildStatus.Failed : BuildStatus.Succeeded;
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException or IOException)
        {
            // The worker died under the build (the demo kills one): the build errors, its volumes are collected.
            status = BuildStatus.Errored;
            ledger.LastError = $"{agent.Name}: {ex.Message}";
        }
        finally
        {
            foreach (var handle in holding)
            {
                ledger.Unhold(handle);
            }

            await Store.Builds.FinishAsync(build, status, CancellationToken.None);
            if (status == BuildStatus.Succeeded)
            {
                ledger.Released(releasedOnSuccess);
            }

            ledger.BuildFinished(status == BuildStatus.Errored);
        }
    }

    private void Hold(List<string> holding, string handle)
    {
        ledger.Hold(handle);
        holding.Add(handle);
    }

    /// <summary>A volume made the way a scheduler makes one: the row, the directory on the worker, the content, the marks.</summary>
    private async Task<Volume> CreateFilledAsync(AgentProcess agent, VolumeOwners owners, int bytes)
    {
        var created = await Store.Volumes.CreateAsync(agent.Name, owners);
        var volume = created.Volume ?? throw new InvalidOperationException($"volume not created: {created.Outcome} {created.Detail}");
        await CreateOnAgentAsync(agent, new CreateVolumeRequest(volume.Handle), volume.Id);
        await Store.Volumes.MarkCreatedAsync(volume.Id);
        await Store.Volumes.StartInitializingAsync(volume.Id);
        await File.WriteAllBytesAsync(Path.Combine(agent.DataPath(volume.Handle), "content.bin"), Content.AsMemory(0, bytes).ToArray());
        await Store.Volumes.MarkInitializedAsync(volume.Id);
        ledger.Created(volume.Handle, agent.Name, bytes);
        return volume;
    }

    private async Task CreateOnAgentAsync(AgentProcess agent, CreateVolumeRequest request, long volumeId)
    {
        try
        {
            var response = await agent.Client.PostAsJsonAsync("volumes", request, VolumeProtocol.Json);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"creating {request.Handle} answered {(int)response.StatusCode}");
            }
        }
        catch
        {
            await Store.Volumes.MarkFailedAsync(volumeId);
            throw;
        }
    }

    private async Task MarkReadyAsync(long volumeId)
    {
        await Store.Volumes.MarkCreatedAsync(volumeId);
        await Store.Volumes.StartInitializingAsync(volumeId);
        await Store.Volumes.MarkInitializedAsync(volumeId);
    }

    private static byte[] CreateContent()
    {
        var content = new byte[1_000_000];
        new Random(7).NextBytes(content);
        return content;
    }

    private sealed record Job(string Pipeline, string Name, long Id, long ConfigId);
}
