"""compval.pipeline.step: what a job's log ends with."""

from __future__ import annotations

import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np

from compval.pipeline import step


def test_a_job_log_ends_with_the_exact_peak_memory_of_the_job_and_of_its_largest_worker(tmp_path):
    log = tmp_path / "job.log"
    with step(SimpleNamespace(log=[str(log)], rule="job")):
        own = np.ones(120 * 2**20 // 8)  # 120 MB touched in this process
        own += 1
        # a worker process touching 80 MB
        code = "import numpy as np; a = np.ones(80 * 2**20 // 8); a += 1"
        subprocess.run([sys.executable, "-c", code], check=True)
    last = log.read_text(encoding="utf-8").splitlines()[-1]
    found = re.search(r"INFO compval\.job: peak memory: (\d+) MB \(largest worker (\d+) MB\)$", last)
    assert found, last
    # the kernel's high-water marks: at least what was touched (the test process may have been larger before)
    assert int(found[1]) >= 120 and int(found[2]) >= 80
