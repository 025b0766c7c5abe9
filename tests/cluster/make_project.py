"""Write the small project that `make test-cluster` runs through SLURM and locally (the tiny 5-factor instrument of
the end-to-end tests with a small `power` grid): python tests/cluster/make_project.py DIR"""

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline_fixtures import write_project  # noqa: E402

cfg = write_project(Path(sys.argv[1]))
c = yaml.safe_load(cfg.read_text())
c["missing"] = "listwise"
c["power"] = {
    "n": [40, 80],
    "replications": 6,
    "chunk_size": 2,
    "rivals": ["one_factor"],
    "population": {"loadings": 0.6, "factor_correlations": {"within_module": 0.7, "between_module": 0.5}},
}
cfg.write_text(yaml.safe_dump(c, sort_keys=False))
print(cfg)
