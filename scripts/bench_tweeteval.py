"""TweetEval stance (SemEval-2016 Task 6): train through stance.training, score test once, write results.json.

    python scripts/bench_tweeteval.py --data-dir ../shared/datasets/tweeteval-stance --out outputs/bench/blend \
        --experiment tweeteval_blend [seed=7 ...]
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model and local data need no hub

from stance.benchmarks.public import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], data="tweeteval_stance", description=__doc__.splitlines()[0]))
