"""RUW (Russia-Ukraine war tweets, targets Russia and Ukraine): train, score test once, write results.json.

    python scripts/bench_ruw.py --data-dir ../shared/datasets/ruw --out outputs/bench/ruw --experiment ruw
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model and local data need no hub

from stance.benchmarks.public import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], data="ruw", description=__doc__.splitlines()[0]))
