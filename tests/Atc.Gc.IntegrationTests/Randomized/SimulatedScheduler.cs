using Atc.Gc.Model;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Randomized;

/// <summary>
/// A CI scheduler as the library expects one to be written: builds get a container on a worker, a
/// cache use and a next-build-input pin for their input, sometimes an image, a copy-on-write child of
/// the input's cache volume, the job's task cache mounted, and an output volume — all through
/// <see cref="WorkerVolumes"/>. Only a build whose volumes are all ready holds them (in the monitor);
/// one that cannot be set up (a worker down, a parent refused, the database restarting) errors.
/// </summary>
internal sealed class SimulatedScheduler(RandomizedCluster cluster, AtcGcStore store, WorkerVolumes volumes, SafetyMonitor monitor)
{
    private static readonly string[] Pipelines = ["web", "api"];
    private static readonly string[] Jobs = ["build", "test"];
    private readonly Dictionary<string, int> commits = new(StringComparer.Ordinal);
    private readonly List<Job> jobs = [];
    private readonly List<RunningBuild> running = [];
    private readonly List<long> unfinished = [];

    public IReadOnlyList<RunningBuild> Running => running;

    public int Started { get; private set; }

    public int SetUpFailed { get; private set; }

    public async Task SetUpAsync()
    {
        foreach (var pipeline in Pipelines)
        {
            var pipelineId = await store.Pipelines.EnsurePipelineAsync(pipeline);
            var config = await store.ResourceCaches.FindOrCreateConfigAsync("git", $"https://git.example/{pipeline}.git");
            await store.Pipelines.EnsureResourceAsync(pipelineId, "repo", config);
            foreach (var job in Jobs)
            {
                jobs.Add(new Job(pipeline, job, await store.Pipelines.EnsureJobAsync(pipelineId, job), config));
            }

            commits[pipeline] = 1;
        }
    }

    public void Commit(Random random) => commits[Pipelines[random.Next(Pipelines.Length)]]++;

    /// <summary>Starts a build on a serving, running worker; returns what happened, for the run's tally.</summary>
    public async Task<string> StartBuildAsync(Random random)
    {
        var workers = (await store.Workers.ListAsync()).Where(w => w.State == WorkerState.Running).Select(w => w.Name).ToHashSet();
        var candidates = cluster.Agents.Where(a => a.Serving && workers.Contains(a.Name)).ToList();
        if (candidates.Count == 0)
        {
            return "start: no worker";
        }

        var agent = candidates[random.Next(candidates.Count)];
        var job = jobs[random.Next(jobs.Count)];
        var build = await store.Builds.CreateAsync(job.Id);
        await store.Builds.StartAsync(build);
        Started++;
        try
        {
            var setUp = await SetUpAsync(random, agent, job, build);
            if (setUp is null)
            {
                SetUpFailed++;
                unfinished.Add(build);
                return "start: set-up failed";
            }

            running.Add(setUp);
            monitor.Hold(agent.Name, setUp.Held);
            return "start";
        }
        catch
        {
            SetUpFailed++;
            unfinished.Add(build);
            throw;
        }
    }

    /// <summary>Finishes a running build (succeeded, failed or aborted); its volumes are released.</summary>
    public async Task<string> FinishBuildAsync(Random random)
    {
        await FinishUnfinishedAsync();
        if (running.Count == 0)
        {
            return "finish: none running";
        }

        var build = running[random.Next(running.Count)];
        var roll = random.NextDouble();
        var status = roll < 0.75 ? BuildStatus.Succeeded : roll < 0.9 ? BuildStatus.Failed : BuildStatus.Aborted;
        running.Remove(build);
        var agent = cluster.Agents.Single(a => a.Name == build.Worker);
        var timed = status == BuildStatus.Succeeded && agent.Serving ? build.ReleasedOnSuccess : [];
        monitor.Release(build.Worker, build.Held, timed);
        unfinished.Add(build.Id);
        await FinishUnfinishedAsync(status);
        return $"finish: {status.ToDb()}";
    }

    /// <summary>Every build finished (after the faults): nothing is held any more.</summary>
    public async Task FinishAllAsync()
    {
        foreach (var build in running)
        {
            monitor.Release(build.Worker, build.Held, []);
            unfinished.Add(build.Id);
        }

        running.Clear();
        await FinishUnfinishedAsync();
    }

    /// <summary>Builds whose finish did not reach the database yet (it was restarting): finished now.</summary>
    private async Task FinishUnfinishedAsync(BuildStatus status = BuildStatus.Errored)
    {
        foreach (var build in unfinished.ToList())
        {
            await store.Builds.FinishAsync(build, status);
            unfinished.Remove(build);
        }
    }

    private async Task<RunningBuild?> SetUpAsync(Random random, AgentNode agent, Job job, long build)
    {
        var placed = await store.Containers.CreateAsync(agent.Name, ContainerOwner.Build(build));
        if (!placed.Succeeded)
        {
            return null;
        }

        var container = placed.Container!.Id;
        await store.Containers.MarkCreatedAsync(container);
        var acquired = await store.ResourceCaches.AcquireAsync(job.Config, $$"""{"ref":"{{commits[job.Pipeline]}}"}""", "depth=1", CacheUser.Build(build));
        if (acquired.Cache is not { } cache)
        {
            return null;
        }

        await store.Pipelines.SetNextBuildInputAsync(job.Id, "repo", cache.Id);
        if (random.NextDouble() < 0.3)
        {
            // The image's config is found (or made) for each build, as a scheduler does: nothing else points at it.
            var imageConfig = await store.ResourceCaches.FindOrCreateConfigAsync("registry-image", "task-image");
            var image = await store.ResourceCaches.AcquireAsync(imageConfig, $$"""{"digest":"sha256:{{random.Next(3)}}"}""", "", CacheUser.Build(build));
            if (image.Cache is null || !(await store.Builds.SetImageAsync(build, image.Cache.Id)).Succeeded)
            {
                return null;
            }
        }

        PopulateVolume fetch = (volume, _, ct) => File.WriteAllTextAsync(Path.Combine(agent.DataPath(volume.Handle), "content"), volume.Handle, ct);
        var input = await volumes.MountResourceCacheAsync(agent.Name, cache.Id, container, fetch);
        if (!input.Succeeded)
        {
            return null;
        }

        var parent = await store.Volumes.FindAsync(input.Volume!.ParentId!.Value);
        var taskCache = await store.TaskCaches.FindOrCreateAsync(job.Id, "compile", "/cache", TimeSpan.FromSeconds(random.Next(0, 3) * 10));
        var mounted = await volumes.MountTaskCacheAsync(agent.Name, taskCache, container, fetch);
        var output = mounted.Succeeded ? await volumes.CreateOutputVolumeAsync(agent.Name, container) : mounted;
        if (parent is null || !mounted.Succeeded || !output.Succeeded)
        {
            return null;
        }

        return new RunningBuild(
            build, agent.Name, [input.Volume.Handle, parent.Handle, mounted.Volume!.Handle, output.Volume!.Handle], [input.Volume.Handle, output.Volume.Handle]);
    }

    public sealed record RunningBuild(long Id, string Worker, IReadOnlyList<string> Held, IReadOnlyList<string> ReleasedOnSuccess);

    private sealed record Job(string Pipeline, string Name, long Id, long Config);
}
