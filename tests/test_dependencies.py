"""Every declared dependency imports at its pinned version and does one real thing.

Guards the known traps: factor_analyzer 0.5.1 breaks with scikit-learn >= 1.8 (``force_all_finite``) and its
CFA with pandas 3 (read-only arrays); pingouin's ``cronbach_alpha`` deletes pairwise by default.
"""

from __future__ import annotations

import re
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _declared() -> list[str]:
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return [re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in deps]


def test_every_declared_dependency_is_pinned_and_installed_at_its_pin():
    pins = _pins()
    for name in _declared():
        assert name in pins, f"{name} has no exact pin in requirements/constraints.txt"
        assert metadata.version(name) == pins[name], f"{name} {metadata.version(name)} != pin {pins[name]}"


def test_environment_yml_matches_constraints():
    pins = _pins()
    text = (ROOT / "environment.yml").read_text()
    for name, ver in re.findall(r"^\s+- ([a-z0-9_.-]+)=([0-9][^\s#]*)", text, re.M):
        key = "snakemake" if name == "snakemake-minimal" else name.replace("_", "-")
        if key == "python":
            continue
        assert pins.get(key) == ver, f"environment.yml {name}={ver} but constraints pin {pins.get(key)}"


def test_known_incompatibilities_are_excluded():
    from packaging.version import Version

    assert Version(metadata.version("scikit-learn")) < Version("1.8"), "factor_analyzer 0.5.1 needs sklearn < 1.8"
    assert Version(pd.__version__) < Version("3"), "factor_analyzer's CFA needs pandas < 3"


def _data(n=300, seed=1):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 2))
    lam = np.array([[0.8, 0], [0.7, 0], [0.6, 0], [0, 0.8], [0, 0.7], [0, 0.6]])
    x = f @ lam.T + rng.normal(scale=0.6, size=(n, 6))
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 7)])


def test_factor_analyzer_fits_without_error_or_sklearn_breakage():
    from factor_analyzer import FactorAnalyzer, calculate_bartlett_sphericity, calculate_kmo
    from factor_analyzer.confirmatory_factor_analyzer import ConfirmatoryFactorAnalyzer, ModelSpecificationParser

    x = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # force_all_finite rename notice in sklearn 1.7
        fa = FactorAnalyzer(n_factors=2, rotation="oblimin").fit(x)
    assert fa.loadings_.shape == (6, 2)
    assert np.sort(np.abs(fa.loadings_).max(axis=1))[0] > 0.4
    chi2, p = calculate_bartlett_sphericity(x)
    assert chi2 > 0 and p < 1e-10
    assert 0.5 < calculate_kmo(x)[1] < 1
    spec = ModelSpecificationParser.parse_model_specification_from_dict(
        x, {"F1": ["x1", "x2", "x3"], "F2": ["x4", "x5", "x6"]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        cfa = ConfirmatoryFactorAnalyzer(spec, disp=False).fit(x.values)  # fails on pandas 3 (read-only arrays)
    assert cfa.loadings_.shape == (6, 2)


def test_pingouin_alpha_pairwise_default_differs_from_listwise():
    import pingouin as pg

    x = _data()[["x1", "x2", "x3"]].copy()
    x.iloc[:40, 0] = np.nan
    a_pair, _ = pg.cronbach_alpha(x)  # pairwise deletion by default
    a_list, _ = pg.cronbach_alpha(x, nan_policy="listwise")
    a_complete, _ = pg.cronbach_alpha(x.dropna())
    assert a_list == pytest.approx(a_complete, abs=1e-12)
    assert a_pair != pytest.approx(a_list, abs=1e-6)


def test_scipy_sklearn_calls():
    import scipy.stats
    import sklearn.metrics

    x = _data()
    r, p = scipy.stats.pearsonr(x["x1"], x["x2"])
    assert r > 0.3 and p < 1e-6
    assert sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0


def test_io_libraries_round_trip(tmp_path):
    import openpyxl  # noqa: F401
    import pyreadstat

    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    df.to_excel(tmp_path / "x.xlsx", index=False)
    assert pd.read_excel(tmp_path / "x.xlsx").astype(float).equals(df)
    pyreadstat.write_sav(df, str(tmp_path / "x.sav"), variable_value_labels={"a": {1.0: "low", 2.0: "high"}})
    back, meta = pyreadstat.read_sav(str(tmp_path / "x.sav"))
    assert back.equals(df) and meta.variable_value_labels["a"][2.0] == "high"


def test_config_and_plotting_libraries(tmp_path):
    import jsonschema
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import yaml
    from docx import Document

    jsonschema.validate({"a": 1}, {"type": "object", "properties": {"a": {"type": "integer"}}})
    assert yaml.safe_load("a: [1, 2]") == {"a": [1, 2]}
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [1, 2])
    fig.savefig(tmp_path / "f.png")
    plt.close(fig)
    assert (tmp_path / "f.png").stat().st_size > 1000
    doc = Document()
    doc.add_table(rows=1, cols=2).cell(0, 0).text = "x"
    doc.save(tmp_path / "t.docx")
    assert Document(tmp_path / "t.docx").tables[0].cell(0, 0).text == "x"


def test_notebook_tooling():
    import jupytext
    import nbconvert  # noqa: F401

    nb = jupytext.reads("# %%\nx = 1\n", fmt="py:percent")
    assert nb.cells[0].source == "x = 1"


def test_snakemake_api_importable():
    import snakemake
    from snakemake.utils import validate  # noqa: F401

    assert int(snakemake.__version__.split(".")[0]) == 9


# Declared packages the pipeline does not import by name, and why they are declared all the same
NOT_IMPORTED = {
    "scikit-learn": "imported by factor_analyzer; pinned below 1.8, where factor_analyzer 0.5.1 breaks",
    "snakemake-executor-plugin-slurm": "loaded by Snakemake itself from workflow/profiles/slurm (make test-cluster)",
    "snakemake": "runs the Snakefile; workflow/scripts receive its injected `snakemake` object, not an import",
    "jupyter": "the kernel (ipykernel) that nbclient starts to execute the notebook",
}
IMPORT_NAMES = {"pyyaml": "yaml", "python-docx": "docx", "factor-analyzer": "factor_analyzer", "fonttools": "fontTools"}


def test_every_declared_dependency_is_imported_by_the_pipeline_or_says_why_not():
    """A declared package nothing imports is dropped (semopy, seaborn and papermill were) or carries its reason."""
    sources = [*(ROOT / "src").rglob("*.py"), *(ROOT / "workflow").rglob("*.py"), *(ROOT / "notebooks").rglob("*.py")]
    imported = set()
    for path in sources:
        for m in re.finditer(r"^\s*(?:from|import)\s+([A-Za-z_][\w]*)", path.read_text(encoding="utf-8"), re.M):
            imported.add(m.group(1))
    unused = [
        name
        for name in _declared()
        if name not in NOT_IMPORTED and IMPORT_NAMES.get(name, name.replace("-", "_")) not in imported
    ]
    assert not unused, f"declared in pyproject.toml but imported nowhere in src/, workflow/ or notebooks/: {unused}"
    assert set(NOT_IMPORTED) <= set(_declared())


def test_jsonschema_is_imported_without_its_format_checker_modules_and_the_block_is_lifted():
    """compval.jsonschemas keeps jsonschema's optional format-checker modules out of its first import (start-up
    cost of every rule's process), validates all the same, and leaves each of those modules importable after."""
    import json
    import subprocess
    import sys

    code = (
        "import importlib.util, json, sys\n"
        "from compval.jsonschemas import FORMAT_CHECKER_MODULES, Draft202012Validator\n"
        "loaded = [m for m in FORMAT_CHECKER_MODULES if sys.modules.get(m) is not None]\n"
        "blocked = [m for m in FORMAT_CHECKER_MODULES if m in sys.modules and sys.modules[m] is None]\n"
        "v = Draft202012Validator({'type': 'object', 'required': ['a']})\n"
        "errors = [e.message for e in v.iter_errors({})]\n"
        "installed = [m for m in FORMAT_CHECKER_MODULES if importlib.util.find_spec(m) is not None]\n"
        "for m in installed:\n"
        "    __import__(m)\n"
        "print(json.dumps([loaded, blocked, errors, len(installed)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded, blocked, errors, n_installed = json.loads(out.stdout)
    assert loaded == [] and blocked == []
    assert errors == ["'a' is a required property"]
    assert n_installed > 0  # Jupyter's jsonschema[format-nongpl] installs several: the import above ran for them
