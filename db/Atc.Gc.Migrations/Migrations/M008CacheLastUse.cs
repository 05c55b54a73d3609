using FluentMigrator;

namespace Atc.Gc.Migrations.Migrations;

/// <summary>
/// When a build last used a cache volume (<c>volumes.last_used_at</c>): set when the scheduler hands a
/// ready cache volume out or makes a copy-on-write child of it. Disk-pressure eviction takes the least
/// recently used first (a volume never used since it was made counts from when it became ready).
/// Unindexed, so setting it stays a heap-only update.
/// </summary>
[Migration(8, "Last use of cache volumes, for disk-pressure eviction")]
public sealed class M008CacheLastUse : Migration
{
    public override void Up() => Execute.Sql("ALTER TABLE volumes ADD COLUMN last_used_at timestamptz");

    public override void Down() => Execute.Sql("ALTER TABLE volumes DROP COLUMN last_used_at");
}
