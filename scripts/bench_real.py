"""Real public statements on troop deployment: train a recipe on the bundled corpus, score the real set once.

    python scripts/bench_real.py --out outputs/bench/real                      # the default recipe, seed 42
    python scripts/bench_real.py --out outputs/bench/real-3 --seeds 42,1,2 trainer.max_length=256
    python scripts/bench_real.py --out outputs/bench/real-m --model outputs/.../model
"""

import sys

from stance.benchmarks.real import main

if __name__ == "__main__":
    sys.exit(main())
