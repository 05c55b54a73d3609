using FluentMigrator;

namespace Atc.Gc.Migrations.Migrations;

/// <summary>
/// Disk accounting: what each worker's agent says of its disk with every heartbeat (capacity and free
/// space for volumes, what its volumes take, and when it said so), and each volume's size as its
/// agent last measured it (from full reports). All unindexed, so updating them stays heap-only.
/// </summary>
[Migration(5, "Disk figures per worker and sizes per volume")]
public sealed class M005DiskAccounting : Migration
{
    public override void Up() => Execute.Sql(
        """
        ALTER TABLE workers
            ADD COLUMN disk_capacity_bytes bigint CHECK (disk_capacity_bytes >= 0),
            ADD COLUMN disk_free_bytes bigint CHECK (disk_free_bytes >= 0),
            ADD COLUMN disk_volumes_bytes bigint CHECK (disk_volumes_bytes >= 0),
            ADD COLUMN disk_reported_at timestamptz;
        ALTER TABLE volumes ADD COLUMN size_bytes bigint CHECK (size_bytes >= 0);
        """);

    public override void Down() => Execute.Sql(
        """
        ALTER TABLE volumes DROP COLUMN size_bytes;
        ALTER TABLE workers
            DROP COLUMN disk_reported_at, DROP COLUMN disk_volumes_bytes, DROP COLUMN disk_free_bytes, DROP COLUMN disk_capacity_bytes;
        """);
}
