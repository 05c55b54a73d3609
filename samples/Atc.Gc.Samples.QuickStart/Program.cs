// The README's "Use the library", as a program the test suite runs: a CI scheduler registers the
// collector in its host, gives a build a copy-on-write child of a resource cache's volume and an
// output volume on a worker, finishes the build, and the collector reclaims what the build released.
//
//   Workers__TokenSecret=<secret> dotnet run --project samples/Atc.Gc.Samples.QuickStart -- \
//       --database "<connection string>" --worker worker-1 --worker-url http://127.0.0.1:7788/ --worker-root /var/lib/atc-gc-worker
//
// The worker's agent must be running (atc-gc worker). --worker-root is where it keeps volumes: this
// sample "fetches" a resource by writing into the volume directly, where a real scheduler would run
// the fetch in a container on the worker.
using Atc.Gc;
using Atc.Gc.Collection;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

var connectionString = Argument("--database");
var worker = Argument("--worker");
var workerUrl = new Uri(Argument("--worker-url"));
var workerRoot = Argument("--worker-root");

// README:begin host
var builder = Host.CreateApplicationBuilder(args);
builder.Services
    .AddAtcGcStore(NpgsqlDataSource.Create(connectionString))
    .AddAtcGcWorkerVolumes(builder.Configuration)   // Workers:TokenSecret, timeouts
    .AddAtcGcCollector(builder.Configuration)       // Collector:* options, validated on start
    .AddAtcGcCollectorService();                    // passes in the background
using var host = builder.Build();
await host.StartAsync();
var store = host.Services.GetRequiredService<AtcGcStore>();
var volumes = host.Services.GetRequiredService<WorkerVolumes>();
// README:end

// Scaffolding: the worker and a pipeline (a real scheduler has these already).
await store.Workers.RegisterAsync(new WorkerRegistration(worker, workerUrl, []));
var pipeline = await store.Pipelines.EnsurePipelineAsync("main");
var job = await store.Pipelines.EnsureJobAsync(pipeline, "unit");

// README:begin build
// A build of the job starts on a worker.
var build = await store.Builds.CreateAsync(job);
await store.Builds.StartAsync(build);
var container = (await store.Containers.CreateAsync(worker, ContainerOwner.Build(build))).Container
    ?? throw new InvalidOperationException("the worker went away: place the build elsewhere");
await store.Containers.MarkCreatedAsync(container.Id);

// Its input: the repository at a commit, cached on the worker (fetched once), and the container's
// copy-on-write child of the cache's volume. The use keeps the cache while the build runs.
var config = await store.ResourceCaches.FindOrCreateConfigAsync("git", "https://git.example/app.git");
var cache = (await store.ResourceCaches.AcquireAsync(config, """{"ref":"abc123"}""", "", CacheUser.Build(build))).Cache
    ?? throw new InvalidOperationException("the config went away: find it again");
await store.Pipelines.SetNextBuildInputAsync(job, "repo", cache.Id);
var input = await volumes.MountResourceCacheAsync(worker, cache.Id, container.Id, populate: FetchAsync);

// Its outputs, in a volume of its own.
var output = await volumes.CreateOutputVolumeAsync(worker, container.Id);
if (!input.Succeeded || !output.Succeeded)
{
    // A typed result says why (worker unreachable, refused, population failed); the rows are failed
    // and the collector reclaims them. The build errors.
    await store.Builds.FinishAsync(build, BuildStatus.Errored);
    throw new InvalidOperationException($"the build's volumes are not ready: {input.Outcome} {output.Outcome}");
}

// ... the build runs in the container ...

// The build is done: its container, input copy and outputs are released; the collector deletes
// them on the worker. The cache's volume stays for the next build (a next build input keeps it).
await store.Builds.FinishAsync(build, BuildStatus.Succeeded);
// README:end

Console.WriteLine($"build {build}: input {input.Volume!.Handle} (a child of {input.Volume.ParentId}), output {output.Volume!.Handle}");
var deadline = DateTime.UtcNow.AddSeconds(30);
while (await store.Volumes.FindAsync(input.Volume.Id) is not null || await store.Volumes.FindAsync(output.Volume.Id) is not null)
{
    if (DateTime.UtcNow > deadline)
    {
        Console.Error.WriteLine("the collector did not reclaim the build's volumes within 30 s");
        return 1;
    }

    await Task.Delay(100);
}

var kept = await store.Volumes.FindReadyAsync(worker, VolumeOwners.ResourceCache(cache.Id));
Console.WriteLine($"reclaimed the build's volumes; the cache's volume {kept?.Handle ?? "(none)"} is kept for the next build");
await host.StopAsync();
return kept is null ? 1 : 0;

// A fetch, simulated: the content written into the volume on the worker's disk.
Task FetchAsync(Volume volume, Atc.Gc.Workers.WorkerEndpoint at, CancellationToken cancellationToken) =>
    File.WriteAllTextAsync(Path.Combine(workerRoot, "volumes", volume.Handle, "data", "README"), "abc123", cancellationToken);

string Argument(string name) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? throw new ArgumentException($"{name} is required");
