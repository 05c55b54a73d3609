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

            // The input: the pipeline's repository at its latest commit, cached on this worker (fetched
            // here if it is not), and the container's copy-on-write child of it.
            int commit;
            lock (sync)
            {
                commit = commits[job.Pipeline];
            }

            var acquired = await Store.ResourceCaches.AcquireAsync(
                job.ConfigId, $$"""{"ref":"{{job.Pipeline}}-{{commit:D4}}"}""", "depth=1", CacheUser.Build(build), ct);
            var cache = acquired.Cache ?? throw new InvalidOperationException($"cache not acquired: {acquired.Outcome} {acquired.Detail}");
            await Store.Pipelines.SetNextBuildInputAsync(job.Id, "repo", cache.Id, ct);
            var input = Ready(await Volumes.MountResourceCacheAsync(agent.Name, cache.Id, container.Id, Fill(agent, random.Next(200_000, 600_000)), ct));
            var parent = (await Store.Volumes.FindAsync(input.ParentId!.Value, ct))!;
            Hold(holding, parent.Handle);
            ledger.Created(input.Handle, agent.Name, ledger.SizeOf(parent.Handle));
            Hold(holding, input.Handle);
            releasedOnSuccess.Add(input.Handle);

            // The job's task cache, mounted while the build runs, and an output volume.
            var taskCache = await Store.TaskCaches.FindOrCreateAsync(job.Id, "compile", "/root/.cache", TimeSpan.FromSeconds(20), ct);
            var taskVolume = Ready(await Volumes.MountTaskCacheAsync(agent.Name, taskCache, container.Id, Fill(agent, random.Next(50_000, 150_000)), ct));
            Hold(holding, taskVolume.Handle);
            var output = Ready(await Volumes.CreateOutputVolumeAsync(agent.Name, container.Id, ct));
            await File.WriteAllBytesAsync(Path.Combine(agent.DataPath(output.Handle), "content.bin"), Content.AsMemory(0, random.Next(20_000, 100_000)).ToArray(), ct);
            ledger.Created(output.Handle, agent.Name, new FileInfo(Path.Combine(agent.DataPath(output.Handle), "content.bin")).Length);
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

    private WorkerVolumes Volumes => cluster.Volumes;

    private void Hold(List<string> holding, string handle)
    {
        ledger.Hold(handle);
        holding.Add(handle);
    }

    private Volume Ready(ReadyVolumeResult result)
    {
        if (result.Outcome == ReadyVolumeOutcome.ParentNotReady)
        {
            ledger.ChildRefused();
        }

        return result.Volume ?? throw new InvalidOperationException($"volume not ready: {result.Outcome} {result.Detail}");
    }

    /// <summary>A fetch, simulated: the content written straight into the volume's directory on the worker.</summary>
    private PopulateVolume Fill(AgentProcess agent, int bytes) => async (volume, _, ct) =>
    {
        await File.WriteAllBytesAsync(Path.Combine(agent.DataPath(volume.Handle), "content.bin"), Content.AsMemory(0, bytes).ToArray(), ct);
        ledger.Created(volume.Handle, agent.Name, bytes);
    };

    private static byte[] CreateContent()
    {
        var content = new byte[1_000_000];
        new Random(7).NextBytes(content);
        return content;
    }

    private sealed record Job(string Pipeline, string Name, long Id, long ConfigId);
}
