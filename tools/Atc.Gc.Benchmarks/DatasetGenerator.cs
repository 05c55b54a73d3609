using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Atc.Gc.Benchmarks;

/// <summary>What was loaded.</summary>
public sealed record DatasetShape(int Volumes, int Orphans, int Workers, int Containers, int Caches, int TaskCaches, int Builds, int Children, TimeSpan LoadTime);

/// <summary>
/// Fills a migrated database with a CI installation's worth of rows through COPY: workers with a base
/// resource type, pipelines and jobs, running builds, resource configs and caches each used by a
/// build, containers, task caches, and volumes — owned by containers (a fifth of those copy-on-write
/// children of a cache volume on the same worker), by caches, by task caches and by base resource
/// types — with the orphans (no owner, no child; created or initialized) scattered among
/// them. Foreign keys are checked as the rows go in.
/// </summary>
public static class DatasetGenerator
{
    public static async Task<DatasetShape> LoadAsync(
        NpgsqlDataSource dataSource, int total, int orphans, int workers, int seed, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (orphans > total || total < 1 || workers < 1)
        {
            throw new ArgumentException($"cannot make {orphans} orphans among {total} volumes on {workers} workers");
        }

        var clock = Stopwatch.StartNew();
        var random = new Random(seed);
        const int pipelines = 10;
        const int jobs = 100;
        var builds = Math.Max(10, total / 20);
        var configs = Math.Max(1, total / 1000);
        var caches = Math.Max(workers, total / 16);
        var containers = Math.Max(workers, total / 4);
        var taskCaches = Math.Max(1, total / 40);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await CopyAsync(connection, "workers (name, state)", Enumerable.Range(1, workers).Select(w => $"w{w}\trunning"), cancellationToken);
        await CopyAsync(connection, "base_resource_types (id, name)", ["1\tgit"], cancellationToken);
        await CopyAsync(connection, "worker_base_resource_types (id, worker_name, base_resource_type_id, image, version)",
            Enumerable.Range(1, workers).Select(w => $"{w}\tw{w}\t1\tgit\t1"), cancellationToken);
        await CopyAsync(connection, "pipelines (id, name)", Enumerable.Range(1, pipelines).Select(p => $"{p}\tp{p}"), cancellationToken);
        await CopyAsync(connection, "jobs (id, pipeline_id, name)", Enumerable.Range(1, jobs).Select(j => $"{j}\t{((j - 1) % pipelines) + 1}\tj{j}"), cancellationToken);
        await CopyAsync(connection, "builds (id, job_id, name, status, started_at)",
            Enumerable.Range(1, builds).Select(b => $"{b}\t{((b - 1) % jobs) + 1}\t{b}\tstarted\t2026-11-01 00:00:00+00"), cancellationToken);
        await CopyAsync(connection, "resource_configs (id, base_resource_type_id, source_hash)",
            Enumerable.Range(1, configs).Select(c => $"{c}\t1\ts{c}"), cancellationToken);
        await CopyAsync(connection, "resource_caches (id, resource_config_id, version, version_digest, params_hash)",
            Enumerable.Range(1, caches).Select(k => $"{k}\t{((k - 1) % configs) + 1}\t{{\"v\":\"{k}\"}}\td{k}\t"), cancellationToken);
        await CopyAsync(connection, "resource_cache_uses (resource_cache_id, build_id)",
            Enumerable.Range(1, caches).Select(k => $"{k}\t{((k - 1) % builds) + 1}"), cancellationToken);
        await CopyAsync(connection, "containers (id, handle, worker_name, state, build_id)",
            Enumerable.Range(1, containers).Select(c => $"{c}\tc{c}\tw{((c - 1) % workers) + 1}\tcreated\t{((c - 1) % builds) + 1}"), cancellationToken);
        await CopyAsync(connection, "task_caches (id, job_id, step_name, path, ttl)",
            Enumerable.Range(1, taskCaches).Select(t => $"{t}\t{((t - 1) % jobs) + 1}\tcompile\t/cache/{t}\t30 days"), cancellationToken);
        progress($"  owners loaded ({clock.Elapsed.TotalSeconds:F1}s); loading {total:N0} volumes");

        var orphan = new bool[total + 1];
        foreach (var i in Enumerable.Range(1, total).OrderBy(_ => random.Next()).Take(orphans))
        {
            orphan[i] = true;
        }

        var lastCacheVolume = new long[workers];
        var children = 0;
        var owned = 0;
        await CopyAsync(connection,
            "volumes (id, handle, worker_name, state, container_id, resource_cache_id, worker_base_resource_type_id, task_cache_id, parent_id, parent_state, created_at, state_changed_at)",
            Enumerable.Range(1, total).Select(i =>
            {
                var w = (i - 1) % workers;
                string state = "initialized", container = Null, cache = Null, baseType = Null, taskCache = Null, parent = Null, parentState = Null;
                if (orphan[i])
                {
                    var roll = random.Next(100);
                    state = roll < 85 ? "initialized" : "created";
                }
                else
                {
                    switch (owned++ % 8)
                    {
                        case 0 or 1 or 2:
                            container = Id(w + 1 + (workers * random.Next(Math.Max(1, containers / workers))));
                            if (owned % 5 == 0 && lastCacheVolume[w] != 0)
                            {
                                parent = Id(lastCacheVolume[w]);
                                parentState = "initialized";
                                children++;
                            }

                            break;
                        case 3 or 4 or 5:
                            cache = Id(random.Next(1, caches + 1));
                            lastCacheVolume[w] = i;
                            break;
                        case 6:
                            taskCache = Id(random.Next(1, taskCaches + 1));
                            break;
                        default:
                            baseType = Id(w + 1);
                            break;
                    }
                }

                return string.Join('\t', i, $"v{i}", $"w{w + 1}", state, container, cache, baseType, taskCache, parent, parentState,
                    "2026-11-01 00:00:00+00", "2026-11-01 00:00:00+00");
            }),
            cancellationToken);

        await using (var sequences = new NpgsqlCommand(
            """
            SELECT setval(pg_get_serial_sequence('volumes', 'id'), (SELECT max(id) FROM volumes));
            SELECT setval(pg_get_serial_sequence('containers', 'id'), (SELECT max(id) FROM containers));
            SELECT setval(pg_get_serial_sequence('builds', 'id'), (SELECT max(id) FROM builds));
            SELECT setval(pg_get_serial_sequence('resource_caches', 'id'), (SELECT max(id) FROM resource_caches));
            SELECT setval(pg_get_serial_sequence('resource_configs', 'id'), (SELECT max(id) FROM resource_configs));
            SELECT setval(pg_get_serial_sequence('task_caches', 'id'), (SELECT max(id) FROM task_caches));
            SELECT setval(pg_get_serial_sequence('worker_base_resource_types', 'id'), (SELECT max(id) FROM worker_base_resource_types));
            """, connection))
        {
            await sequences.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var vacuum = new NpgsqlCommand("VACUUM ANALYZE", connection) { CommandTimeout = 0 })
        {
            await vacuum.ExecuteNonQueryAsync(cancellationToken);
        }

        return new DatasetShape(total, orphans, workers, containers, caches, taskCaches, builds, children, clock.Elapsed);
    }

    private const string Null = "\\N";

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static async Task CopyAsync(NpgsqlConnection connection, string target, IEnumerable<string> lines, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginTextImportAsync($"COPY {target} FROM STDIN", cancellationToken);
        var buffer = new StringBuilder(1 << 16);
        foreach (var line in lines)
        {
            buffer.Append(line).Append('\n');
            if (buffer.Length > 1 << 20)
            {
                await writer.WriteAsync(buffer.ToString());
                buffer.Clear();
            }
        }

        await writer.WriteAsync(buffer.ToString());
    }
}
