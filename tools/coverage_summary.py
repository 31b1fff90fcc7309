"""Print the combined coverage of ``make test``: lines and branches, apart.

``coverage report`` gives one figure that mixes both; this reads the JSON report
(``coverage json``) and says each.
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    with open(path) as f:
        totals = json.load(f)["totals"]
    lines, covered = totals["num_statements"], totals["covered_lines"]
    branches, taken = totals["num_branches"], totals["covered_branches"]
    print(
        f"coverage: lines {100 * covered / lines:.1f}% ({covered}/{lines}), "
        f"branches {100 * taken / branches:.1f}% ({taken}/{branches})"
    )


if __name__ == "__main__":
    main(sys.argv[1])
