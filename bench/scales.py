"""Dataset sizes the harness can generate, and how big each workload's input is at that size."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """How many records the generator writes, and how many rows a workload feeds in.

    Leads and interactions are drawn per contact (1.5 and 10 on average), so their totals land
    within a fraction of a percent of the nominal figures below; the results file records the
    exact counts.
    """

    name: str
    contacts: int
    workload_rows: int
    """Input rows per workload run, e.g. contacts handed to the bulk create service."""
    repeat: int = 3
    """Runs of each workload and baseline, the fastest kept: a shared machine is noisy."""
    check_foreign_keys: bool = True
    """Verify every foreign key after an SQLite load (a full scan; skipped at the largest size)."""

    @property
    def accounts(self) -> int:
        return max(1, self.contacts // 10)

    @property
    def nominal_leads(self) -> int:
        return self.contacts * 3 // 2

    @property
    def nominal_interactions(self) -> int:
        return self.contacts * 10


SCALES: dict[str, Scale] = {
    # Not offered on the command line's help: the smoke test's size.
    "tiny": Scale("tiny", contacts=300, workload_rows=200, repeat=1),
    "small": Scale("small", contacts=10_000, workload_rows=10_000),
    "medium": Scale("medium", contacts=100_000, workload_rows=50_000),
    "large": Scale(
        "large",
        contacts=1_000_000,
        workload_rows=200_000,
        repeat=1,
        check_foreign_keys=False,
    ),
}
PUBLIC_SCALES = ("small", "medium", "large")
