using FluentMigrator;

namespace Atc.Gc.Migrations.Migrations;

/// <summary>
/// Leaves free space on every page of <c>volumes</c>. Updates of unindexed columns — a collector's
/// claim (<c>claimed_by</c>, <c>claim_expires_at</c>), a retry's <c>delete_attempts</c>, a report's
/// <c>missing_since</c> — can then be heap-only (HOT): the new row version stays on its page and no
/// index entry is written. State changes still touch the indexes, but their new versions stay on
/// the same page too. Applies to pages written from now on (a <c>VACUUM FULL</c> rewrites old ones).
/// </summary>
[Migration(3, "Free space on volume pages for in-place updates")]
public sealed class M003VolumeFillFactor : Migration
{
    public override void Up() => Execute.Sql("ALTER TABLE volumes SET (fillfactor = 85)");

    public override void Down() => Execute.Sql("ALTER TABLE volumes RESET (fillfactor)");
}
